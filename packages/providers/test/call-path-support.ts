// What the call-path tests share: re-exports (one import line, types included), the store they
// read through, "workers" (CallPath instances with their own Redis connections, breakers and SDK
// clients) on the run's Redis and our AWS endpoint, and the busiest one-second window of a run.
import type { SecretStore } from '@herdless/core';
import type { AwsEndpoint } from '@herdless/lab';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { CallPath, ProviderCache, type CallPathOptions, type Provider } from '../src/index.js';

export { CallPath, ProviderCache, type CallPathOptions, type Provider } from '../src/index.js';
export type RemoteRefLike = { key: string; property?: string; version?: string };

const redisUrl = (inject as unknown as (key: string) => string)('redisUrl');

export const store: SecretStore = {
  metadata: { name: 'aws', namespace: 'team-a' },
  spec: {
    provider: {
      aws: {
        service: 'SecretsManager',
        region: 'us-east-1',
        auth: { secretRef: { accessKeyIDSecretRef: { name: 'c', key: 'id' }, secretAccessKeySecretRef: { name: 'c', key: 'secret' } } },
      },
    },
  },
};

export interface Worker {
  path: CallPath;
  redis: Redis;
  cache: ProviderCache;
  provider: Provider;
}

let runId = 0;

/** A prefix of limiter keys of its own: workers started with it share one limiter, and no other. */
export function limiterPrefix(): string {
  return `t${process.pid}-${Date.now()}-${runId++}`;
}

/** `n` workers sharing one limiter, each with a provider for `store` on `endpoint`. */
export async function startWorkers(endpoint: AwsEndpoint, n: number, opts: Omit<CallPathOptions, 'redis' | 'keyPrefix'>, keyPrefix = limiterPrefix()): Promise<Worker[]> {
  const workers: Worker[] = [];
  for (let i = 0; i < n; i++) {
    const redis = new Redis(redisUrl);
    const path = new CallPath({ ...opts, redis, keyPrefix });
    const cache = new ProviderCache();
    const provider = await path.createProvider(
      { store, storeKind: 'SecretStore', externalSecretNamespace: 'ns', awsEndpoint: endpoint.url, readSecretKey: async (r) => (r.key === 'id' ? 'AKID' : 'SECRET') },
      cache,
    );
    workers.push({ path, redis, cache, provider });
  }
  return workers;
}

export async function stopWorkers(workers: Worker[]): Promise<void> {
  for (const w of workers) {
    w.path.close();
    w.cache.close();
    await w.redis.quit();
  }
}

export { maxPerSecond } from './max-per-second.js';
