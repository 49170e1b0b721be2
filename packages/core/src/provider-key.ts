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
   * assumes one (core's assumedRolesOf, ESO's order); else "default", the account of static,
   * ambient or ServiceAccount (auth.jwt, whose role is the ServiceAccount's annotation)
   * credentials, which Herdless does not look up: the scheduler plans with this key and holds no
   * credentials, so it could not call GetCallerIdentity, and a key that changed once a worker
   * learnt the account would split one quota between two budgets. Every such store of a Region
   * shares the one "default" budget.
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

type AwsSpec = NonNullable<SecretStore['spec']['provider']['aws']>;

/**
 * The roles a store assumes, in the order ESO assumes them: each of additionalRoles in turn
 * (each with the previous one's credentials), then role, the only one assumed with externalID.
 */
export function assumedRolesOf(aws: AwsSpec): string[] {
  const chain = [...(aws.additionalRoles ?? []), aws.role];
  return chain.filter((r): r is string => typeof r === 'string' && r !== '');
}

/** The account of the last role a store assumes, if any. */
function assumedAccountOf(aws: AwsSpec): string | undefined {
  const last = assumedRolesOf(aws).at(-1);
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
  // ESO's order: a ServiceAccount token when auth.jwt is set, else the Secrets, else ambient.
  const base = jwt
    ? `jwt:${referencedNamespaceOf(jwt, store, kind, externalSecretNamespace)}/${jwt.name}#${JSON.stringify(jwt.audiences ?? [])}`
    : secretRef
      ? `static:${at(secretRef.accessKeyIDSecretRef)},${at(secretRef.secretAccessKeySecretRef)},${at(secretRef.sessionTokenSecretRef)}`
      : 'ambient';
  // additionalRoles and role are kept apart: role=A with additionalRoles=[B] assumes B then A
  // (with externalID), additionalRoles=[B, A] assumes the same chain without it.
  // Session tags decide what an attribute-based policy lets the session read.
  const roles = `additionalRoles=${(aws.additionalRoles ?? []).filter(Boolean).join('>')}|role=${aws.role ?? ''}`;
  const tags = aws.sessionTags?.length || aws.transitiveTagKeys?.length ? `|sessionTags=${JSON.stringify(aws.sessionTags ?? [])}|transitiveTagKeys=${JSON.stringify(aws.transitiveTagKeys ?? [])}` : '';
  return aws.role || aws.additionalRoles?.some(Boolean) || aws.externalID ? `${base}|${roles}|externalID=${aws.externalID ?? ''}${tags}` : base;
}

/** A short digest of a credential identity, for map keys and logs (names stay out of metric labels). */
export function credentialDigestOf(identity: string): string {
  return createHash('sha256').update(identity).digest('base64url').slice(0, 16);
}
