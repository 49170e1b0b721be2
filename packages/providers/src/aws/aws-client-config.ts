// What every AWS SDK v3 client Herdless builds has in common: region and endpoint from the
// store and the worker, credentials resolved for the store (credential-plan.ts), and retries
// switched off inside the SDK. Credentials live only in this process's memory.
import { HerdlessError, Reasons, referencedNamespaceOf, terminal, transient, type AwsProvider, type SecretStore } from '@herdless/core';
import type { ProviderContext } from '../provider.js';
import type { AwsCredentials } from './aws-sessions.js';
import { UndiciRequestHandler } from './undici-request-handler.js';

type SecretRefAuth = NonNullable<NonNullable<AwsProvider['auth']>['secretRef']>;

/**
 * The AWS SDK makes exactly one HTTP attempt per call. The SDK's default "standard" retry mode
 * makes up to 3 attempts and retries throttling replies itself, behind the back of the
 * distributed rate limiter: every throttle would cost up to 3 calls of the quota we are already
 * over, and every outage 3× the probes. Retries belong to the worker (retry class of the
 * classified error) and to the call path (limiter + breaker), which all workers share.
 */
export const AWS_SDK_MAX_ATTEMPTS = 1;

/** Connection and whole-request timeouts: a hung store must fail the call, not hold a worker slot. */
export const AWS_CONNECTION_TIMEOUT_MS = 3_000;
export const AWS_REQUEST_TIMEOUT_MS = 10_000;

export function awsProviderOf(store: SecretStore): AwsProvider {
  const aws = store.spec.provider.aws;
  if (!aws) {
    const names = Object.keys(store.spec.provider).join(', ') || 'none';
    throw terminal(Reasons.ProviderNotSupported, `expected an aws provider in store "${store.metadata.name ?? ''}", found: ${names}`);
  }
  return aws;
}

/** One key of a credential Secret, read where ESO reads it (core's referencedNamespaceOf). */
async function readKey(ctx: ProviderContext, ref: { name: string; key: string; namespace?: string | undefined }, field: string): Promise<string> {
  const namespace = referencedNamespaceOf(ref, ctx.store, ctx.storeKind, ctx.externalSecretNamespace);
  try {
    return await ctx.readSecretKey({ namespace, name: ref.name, key: ref.key });
  } catch (e) {
    if (e instanceof HerdlessError) throw e;
    throw transient(Reasons.ProviderError, `could not read ${field} from Secret ${namespace}/${ref.name} key "${ref.key}"`, e);
  }
}

/** Static credentials from the store's auth.secretRef, read where ESO reads them. */
export async function readStaticCredentials(ctx: ProviderContext, ref: SecretRefAuth): Promise<AwsCredentials> {
  if (!ref.accessKeyIDSecretRef || !ref.secretAccessKeySecretRef) {
    throw terminal(
      Reasons.InvalidSpec,
      `expected both accessKeyIDSecretRef and secretAccessKeySecretRef in store "${ctx.store.metadata.name ?? ''}", found ${ref.accessKeyIDSecretRef ? 'only accessKeyIDSecretRef' : ref.secretAccessKeySecretRef ? 'only secretAccessKeySecretRef' : 'neither'}`,
    );
  }
  const [accessKeyId, secretAccessKey, sessionToken] = await Promise.all([
    readKey(ctx, ref.accessKeyIDSecretRef, 'auth.secretRef.accessKeyIDSecretRef'),
    readKey(ctx, ref.secretAccessKeySecretRef, 'auth.secretRef.secretAccessKeySecretRef'),
    ref.sessionTokenSecretRef ? readKey(ctx, ref.sessionTokenSecretRef, 'auth.secretRef.sessionTokenSecretRef') : Promise.resolve(undefined),
  ]);
  return { accessKeyId: accessKeyId.trim(), secretAccessKey: secretAccessKey.trim(), ...(sessionToken ? { sessionToken: sessionToken.trim() } : {}) };
}

/**
 * The options every AWS client gets (spread into the client's constructor). Each call makes its
 * own request handler; it opens no connection until the client's first call.
 */
export function awsClientOptions(region: string, endpoint: string | undefined, credentials: AwsCredentials | undefined) {
  return {
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: AWS_SDK_MAX_ATTEMPTS,
    // The middleware stack resolved once per command type, not at every call (about 25 µs of a
    // call): nothing here changes a client's or a command's middleware after the client is made.
    cacheMiddleware: true,
    requestHandler: new UndiciRequestHandler({ connectionTimeoutMs: AWS_CONNECTION_TIMEOUT_MS, requestTimeoutMs: AWS_REQUEST_TIMEOUT_MS }),
  };
}
