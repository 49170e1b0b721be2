// Two identities of a store, never confused. The *quota key* names the upstream quota a call is
// charged to: AWS throttles per account, Region and operation, so the limiter and the planner
// charge it. The *credential identity* names everything that decides what a call may read (the
// credential Secrets with their keys, the role chain, the external ID, the ServiceAccount of a
// token): coalescing, batching, client caches and breakers never cross it, or a value read with
// one tenant's credentials would reach another. Both appear in memory, Redis keys and metric
// labels only as identities (names, digests), never credentials.
import { createHash } from 'node:crypto';
import type { SecretStore, StoreKind } from './resources.js';

export interface ProviderIdentity {
  /** 'aws-sm' | 'aws-ps' | another provider type. */
  type: string;
  region: string;
  /**
   * The AWS account calls are charged to: the account of the role assumed last, when the store
   * assumes one; else "default", the account of static or ambient credentials, which Herdless
   * does not look up: every such store of a Region shares one budget, which can only
   * under-spend the quota, never overrun it.
   */
  account: string;
  /** Endpoint override, when the store talks to something other than AWS's public endpoint. */
  endpoint?: string;
}

/** The account of static or ambient credentials (not looked up). */
export const DEFAULT_ACCOUNT = 'default';

export function providerTypeOf(store: SecretStore): string {
  const aws = store.spec.provider.aws;
  if (aws) return aws.service === 'ParameterStore' ? 'aws-ps' : 'aws-sm';
  const names = Object.keys(store.spec.provider);
  return names[0] ?? 'unknown';
}

const ROLE_ARN_ACCOUNT = /^arn:aws[a-z-]*:iam::(\d{12}):role\//;

/** The account of the last role a store assumes (role, then additionalRoles in order), if any. */
function assumedAccountOf(aws: NonNullable<SecretStore['spec']['provider']['aws']>): string | undefined {
  const chain = [aws.role, ...(aws.additionalRoles ?? [])].filter((r): r is string => typeof r === 'string' && r !== '');
  const last = chain.at(-1);
  return last ? (ROLE_ARN_ACCOUNT.exec(last)?.[1] ?? `role:${last}`) : undefined;
}

/** The quota a store's calls are charged to. Stores of other providers get one key per store. */
export function providerIdentityOf(store: SecretStore, kind: StoreKind, endpoint?: string): ProviderIdentity {
  const aws = store.spec.provider.aws;
  if (!aws) return { type: providerTypeOf(store), region: '-', account: `${kind}/${store.metadata.namespace ?? ''}/${store.metadata.name}` };
  return { type: providerTypeOf(store), region: aws.region, account: assumedAccountOf(aws) ?? DEFAULT_ACCOUNT, ...(endpoint ? { endpoint } : {}) };
}

/** A stable, printable quota key: "aws-sm|us-east-1|default|http://127.0.0.1:4566". */
export function providerKeyString(id: ProviderIdentity): string {
  return [id.type, id.region, id.account, id.endpoint ?? ''].join('|');
}

/** A reference to one key of a Kubernetes Secret, as a store writes it. */
interface SecretKeyRef {
  name?: string | undefined;
  key?: string | undefined;
  namespace?: string | undefined;
}

/**
 * The namespace a store's reference to a Secret or ServiceAccount resolves to, as ESO resolves
 * it: a SecretStore reads only in its own namespace (the ref's namespace is ignored); a
 * ClusterSecretStore reads in the ref's namespace when given, else in the ExternalSecret's.
 */
export function referencedNamespaceOf(ref: { namespace?: string | undefined }, store: SecretStore, kind: StoreKind, externalSecretNamespace: string): string {
  if (kind === 'ClusterSecretStore') return ref.namespace ?? externalSecretNamespace;
  return store.metadata.namespace ?? externalSecretNamespace;
}

/**
 * Everything that decides what a store's calls may read, as one string: equal strings mean the
 * same rights. It names Secrets and keys, roles and ServiceAccounts, never their contents; the
 * service, Region and endpoint are in the quota key, which callers pair it with.
 */
export function credentialIdentityOf(store: SecretStore, kind: StoreKind, externalSecretNamespace: string): string {
  const aws = store.spec.provider.aws;
  if (!aws) return `store:${kind}/${store.metadata.namespace ?? ''}/${store.metadata.name}`;
  const at = (ref: SecretKeyRef | undefined): string =>
    ref ? `${referencedNamespaceOf(ref, store, kind, externalSecretNamespace)}/${ref.name ?? ''}#${ref.key ?? ''}` : '-';
  const secretRef = aws.auth?.secretRef;
  const jwt = aws.auth?.jwt?.serviceAccountRef;
  const base = secretRef
    ? `static:${at(secretRef.accessKeyIDSecretRef)},${at(secretRef.secretAccessKeySecretRef)},${at(secretRef.sessionTokenSecretRef)}`
    : jwt
      ? `jwt:${referencedNamespaceOf(jwt, store, kind, externalSecretNamespace)}/${jwt.name}#${(jwt.audiences ?? []).join(',')}`
      : 'ambient';
  const roles = [aws.role, ...(aws.additionalRoles ?? [])].filter(Boolean).join('>');
  return roles || aws.externalID ? `${base}|roles=${roles}|externalID=${aws.externalID ?? ''}` : base;
}

/** A short digest of a credential identity, for map keys and logs (names stay out of metric labels). */
export function credentialDigestOf(identity: string): string {
  return createHash('sha256').update(identity).digest('base64url').slice(0, 16);
}
