// The provider key names the upstream quota a store's calls are charged to: AWS throttles per
// account, Region and operation, so stores that share credentials and Region share a key.
// Keys appear in Redis keys and metric labels: identities only, never credentials.
import type { SecretStore, StoreKind } from './resources.js';

export interface ProviderIdentity {
  /** 'aws-sm' | 'aws-ps' | another provider type. */
  type: string;
  region: string;
  /** The role assumed, or the Secret holding static credentials, or 'ambient'. */
  principal: string;
  /** Endpoint override, when the store talks to something other than AWS's public endpoint. */
  endpoint?: string;
}

export function providerTypeOf(store: SecretStore): string {
  const aws = store.spec.provider.aws;
  if (aws) return aws.service === 'ParameterStore' ? 'aws-ps' : 'aws-sm';
  const names = Object.keys(store.spec.provider);
  return names[0] ?? 'unknown';
}

export function providerIdentityOf(store: SecretStore, kind: StoreKind, endpoint?: string): ProviderIdentity {
  const aws = store.spec.provider.aws;
  if (!aws) return { type: providerTypeOf(store), region: '-', principal: `${kind}/${store.metadata.namespace ?? ''}/${store.metadata.name}` };
  const ref = aws.auth?.secretRef?.accessKeyIDSecretRef;
  const principal = aws.role
    ? `role=${aws.role}`
    : ref
      ? `secret=${ref.namespace ?? store.metadata.namespace ?? ''}/${ref.name}`
      : 'ambient';
  return { type: providerTypeOf(store), region: aws.region, principal, ...(endpoint ? { endpoint } : {}) };
}

/** A stable, printable key: "aws-sm|us-east-1|ambient|http://127.0.0.1:4566". */
export function providerKeyString(id: ProviderIdentity): string {
  return [id.type, id.region, id.principal, id.endpoint ?? ''].join('|');
}
