// Picks and builds the provider a store asks for. Clients come from a ProviderCache when the
// worker passes one, so building a provider per job is cheap.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { providerIdentityOf, providerKeyString, providerTypeOf, Reasons, terminal } from '@herdless/core';
import { awsClientOptions, awsProviderOf, resolveStaticCredentials } from './aws/aws-client-config.js';
import { classifyAwsError } from './aws/classify-aws-error.js';
import { AwsSecretsManagerProvider } from './aws-secrets-manager/aws-secrets-manager.js';
import { ProviderCache } from './provider-cache.js';
import type { Provider, ProviderContext } from './provider.js';

/** The provider key of the store in `ctx`: what the limiter, breaker and budgets are keyed by. */
export function providerKeyOf(ctx: Pick<ProviderContext, 'store' | 'storeKind' | 'awsEndpoint'>): string {
  return providerKeyString(providerIdentityOf(ctx.store, ctx.storeKind, ctx.store.spec.provider.aws ? ctx.awsEndpoint : undefined));
}

/**
 * Builds the provider for `ctx.store` ("aws" with service SecretsManager or ParameterStore).
 * Anything else is a terminal ProviderNotSupported. Pass the worker's ProviderCache so
 * SDK clients are shared; without one, the provider owns its client and close() destroys it.
 */
export async function createProvider(ctx: ProviderContext, cache?: ProviderCache): Promise<Provider> {
  const type = providerTypeOf(ctx.store);
  if (type !== 'aws-sm') {
    throw terminal(Reasons.ProviderNotSupported, `expected a store with provider aws (service SecretsManager), found ${describeProvider(ctx)}`);
  }
  const aws = awsProviderOf(ctx.store);
  const credentials = await resolveStaticCredentials(ctx);
  const providerKey = providerKeyOf(ctx);
  const make = () => new SecretsManagerClient(awsClientOptions(aws.region, ctx.awsEndpoint, credentials));
  const client = cache
    ? cache.client(`${providerKey}#${ProviderCache.credentialsDigest([credentials?.accessKeyId, credentials?.secretAccessKey, credentials?.sessionToken])}`, make)
    : make();
  return new AwsSecretsManagerProvider({
    client,
    providerKey,
    prefix: aws.prefix,
    gate: ctx.gate,
    ownsClient: cache === undefined,
    checkCredentials: async () => {
      if (credentials) return;
      try {
        // The default chain: fails when no credentials can be found (ESO's Validate does the same).
        await client.config.credentials();
      } catch (e) {
        throw classifyAwsError(e, { operation: 'ResolveCredentials' });
      }
    },
  });
}

function describeProvider(ctx: ProviderContext): string {
  const aws = ctx.store.spec.provider.aws;
  if (aws) return `aws service ${aws.service}`;
  return `provider ${Object.keys(ctx.store.spec.provider).join(', ') || 'none'}`;
}
