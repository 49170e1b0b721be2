// Picks and builds the provider a store asks for. Clients come from a ProviderCache when the
// worker passes one, so building a provider per job is cheap.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { credentialDigestOf, credentialIdentityOf, providerIdentityOf, providerKeyString, providerTypeOf, Reasons, terminal } from '@herdless/core';
import { awsClientOptions, awsProviderOf } from './aws/aws-client-config.js';
import { AwsSessionCache } from './aws/aws-sessions.js';
import { resolveAwsCredentials } from './aws/resolve-aws-credentials.js';
import { classifyAwsError } from './aws/classify-aws-error.js';
import { AwsParameterStoreProvider } from './aws-parameter-store/aws-parameter-store.js';
import { AwsSecretsManagerProvider } from './aws-secrets-manager/aws-secrets-manager.js';
import { ProviderCache } from './provider-cache.js';
import type { Provider, ProviderContext } from './provider.js';

/** The provider key (quota key) of the store in `ctx`: what the limiter and the budgets charge. */
export function providerKeyOf(ctx: Pick<ProviderContext, 'store' | 'storeKind' | 'awsEndpoint'>): string {
  return providerKeyString(providerIdentityOf(ctx.store, ctx.storeKind, ctx.store.spec.provider.aws ? ctx.awsEndpoint : undefined));
}

/** The digest of the store's credential identity for this ExternalSecret (core's credentialIdentityOf). */
export function credentialIdentityOfContext(ctx: Pick<ProviderContext, 'store' | 'storeKind' | 'externalSecretNamespace'>): string {
  return credentialDigestOf(credentialIdentityOf(ctx.store, ctx.storeKind, ctx.externalSecretNamespace));
}

/**
 * Builds the provider for `ctx.store` ("aws" with service SecretsManager or ParameterStore).
 * Anything else is a terminal ProviderNotSupported. Pass the worker's ProviderCache so SDK
 * clients and STS sessions are shared; without one, the provider owns its client and close()
 * destroys it. Temporary credentials are resolved here, before any read, so the STS calls pass
 * the gate on their own (never inside a read's admission).
 */
export async function createProvider(ctx: ProviderContext, cache?: ProviderCache): Promise<Provider> {
  const type = providerTypeOf(ctx.store);
  if (type !== 'aws-sm' && type !== 'aws-ps') {
    throw terminal(Reasons.ProviderNotSupported, `expected a store with provider aws (service SecretsManager or ParameterStore), found ${describeProvider(ctx)}`);
  }
  const aws = awsProviderOf(ctx.store);
  // Without a cache (tests, tools), sessions last as long as this provider.
  const credentials = await resolveAwsCredentials(ctx, cache?.sessions ?? new AwsSessionCache());
  const providerKey = providerKeyOf(ctx);
  const options = awsClientOptions(aws.region, ctx.awsEndpoint, credentials);
  // The provider key names the service, so one cache holds both kinds of client apart.
  const cached = <C extends { destroy(): void }>(make: () => C): C =>
    cache
      ? cache.client(`${providerKey}#${ProviderCache.credentialsDigest([credentials?.accessKeyId, credentials?.secretAccessKey, credentials?.sessionToken])}`, make)
      : make();
  const checkCredentials = (client: { config: { credentials: () => Promise<unknown> } }) => async () => {
    if (credentials) return;
    try {
      // The default chain: fails when no credentials can be found (ESO's Validate does the same).
      await client.config.credentials();
    } catch (e) {
      throw classifyAwsError(e, { operation: 'ResolveCredentials' });
    }
  };
  const common = { providerKey, credentialIdentity: credentialIdentityOfContext(ctx), prefix: aws.prefix, gate: ctx.gate, ownsClient: cache === undefined };
  if (type === 'aws-ps') {
    const client = cached(() => new SSMClient(options));
    return new AwsParameterStoreProvider({ ...common, client, checkCredentials: checkCredentials(client) });
  }
  const client = cached(() => new SecretsManagerClient(options));
  return new AwsSecretsManagerProvider({ ...common, client, checkCredentials: checkCredentials(client) });
}

function describeProvider(ctx: ProviderContext): string {
  const aws = ctx.store.spec.provider.aws;
  if (aws) return `aws service ${aws.service}`;
  return `provider ${Object.keys(ctx.store.spec.provider).join(', ') || 'none'}`;
}
