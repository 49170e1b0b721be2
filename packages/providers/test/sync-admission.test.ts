// One sync, one admission, through the whole call path (real Redis, our AWS endpoint, the real
// SDK): a sync with many reads, and a find with many pages, each complete while other workers
// keep the same buckets busy, and every call they paid for is sent once: a sync is deferred
// only before it pays anything. The store sees no second over budget and no throttle. Each
// sync runs as the worker's fetch step does (Provider.admitSync, in its lane) and comes back
// when deferred, as a re-delayed job does.
import { HerdlessError } from '@herdless/core';
import { startAwsEndpoint, type AwsEndpoint } from '@herdless/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limiterParams, RedisRateLimiter, withCallLane, type VersionedKey } from '../src/index.js';
import { limiterPrefix, startWorkers, stopWorkers, type Provider, type Worker } from './call-path-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A sync job: its pass again after each deferral (as the worker re-delays it), up to `passes` passes. */
async function syncJob<T>(pass: () => Promise<T>, passes: number): Promise<{ value: T; deferred: number }> {
  for (let deferred = 0; ; deferred++) {
    try {
      return { value: await pass(), deferred };
    } catch (e) {
      if (!(e instanceof HerdlessError) || e.retry !== 'throttled' || deferred + 1 >= passes) throw e;
      await sleep(e.retryAfterMs ?? 100);
    }
  }
}

/** One sync pass as the worker's fetch step makes it: the known reads admitted as one, in the sync's lane. */
function syncPass<T>(provider: Provider, refs: readonly VersionedKey[], fetch: () => Promise<T>): Promise<T> {
  return withCallLane('urgent', () => (provider.admitSync ? provider.admitSync(refs, fetch) : fetch()));
}

/** Other workers' syncs, each coming back when deferred, until `stop()`: the competing load. */
function keepBusy(provider: Provider, pass: (i: number) => Promise<unknown>, concurrency: number): { stop(): Promise<number> } {
  let stopped = false;
  let ok = 0;
  const loops = Array.from({ length: concurrency }, async (_, n) => {
    for (let i = n; !stopped; i += concurrency) {
      try {
        await pass(i);
        ok++;
      } catch (e) {
        if (!(e instanceof HerdlessError) || e.retry !== 'throttled') throw e;
        await sleep(e.retryAfterMs ?? 100);
      }
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return ok;
    },
  };
}

describe('one sync, one admission (real Redis, our AWS endpoint, real SDK)', () => {
  let endpoint: AwsEndpoint;

  beforeAll(async () => {
    endpoint = await startAwsEndpoint();
  });
  afterAll(async () => {
    await endpoint?.stop();
  });

  it('a sync of 200 reads at a budget of 40/s goes through in one pass, paced at the budget, while another worker syncs single reads', async () => {
    endpoint.clearSecrets();
    endpoint.resetRequests();
    endpoint.setQuota('GetSecretValue', 40, 40);
    for (let i = 0; i < 200; i++) endpoint.putSecret({ name: `large/${i}`, secretString: `value-${i}` });
    for (let i = 0; i < 1_000; i++) endpoint.putSecret({ name: `small/${i}`, secretString: `small-${i}` });
    const [a, b] = (await startWorkers(endpoint, 2, { budgets: { byType: { 'aws-sm': { GetSecretValue: 40 } } }, batching: 'never', coalesceWindowMs: 1 })) as [Worker, Worker];
    try {
      // Another worker's single-read syncs, each of its own key: one call each.
      const busy = keepBusy(b.provider, (i) => syncPass(b.provider, [{ key: `small/${i}` }], () => b.provider.getSecret({ key: `small/${i}` })), 4);
      await sleep(500);
      const refs = Array.from({ length: 200 }, (_, i) => ({ key: `large/${i}` }));
      const { value: values, deferred } = await syncJob(() => syncPass(a.provider, refs, () => Promise.all(refs.map((r) => a.provider.getSecret(r)))), 20);
      const smallSyncs = await busy.stop();
      expect(values.map(text)).toEqual(refs.map((_, i) => `value-${i}`));
      expect(smallSyncs).toBeGreaterThan(0);
      const seconds = endpoint.requestsPerSecond({ operation: 'GetSecretValue' });
      const peak = Math.max(...seconds.map((s) => s.ok + s.throttled + s.error));
      console.log(`one admission: 200 reads (deferred ${deferred} times) beside ${smallSyncs} single-read syncs, ${seconds.length} s, peak ${peak}/s`);
      // Every read paid for was sent once: the 200 and one per small sync, nothing again.
      expect(endpoint.counts()['GetSecretValue']).toEqual({ ok: 200 + smallSyncs, throttled: 0, error: 0 });
      expect(peak).toBeLessThanOrEqual(40);
    } finally {
      endpoint.setQuota('GetSecretValue', 10_000, 10_000);
      await stopWorkers([a, b]);
    }
  });

  it('a find with many pages (ListSecrets, then BatchGetSecretValue) completes while other workers keep both buckets busy, each page and batch paid once', async () => {
    endpoint.clearSecrets();
    endpoint.resetRequests();
    endpoint.setQuota('ListSecrets', 5, 5);
    endpoint.setQuota('BatchGetSecretValue', 5, 5);
    for (let i = 0; i < 400; i++) endpoint.putSecret({ name: `many/${String(i).padStart(3, '0')}`, secretString: `m${i}` });
    const budgets = { 'aws-sm': { GetSecretValue: 40, ListSecrets: 5, BatchGetSecretValue: 5 } };
    const keyPrefix = limiterPrefix();
    const [a] = (await startWorkers(endpoint, 1, { budgets: { byType: budgets }, coalesceWindowMs: 1 }, keyPrefix)) as [Worker];
    // The other workers: single calls on both buckets, more than the budget, each coming back
    // when deferred, the next one starting a moment after a call went out (its job ended). They
    // book on the shared limiter without calling the store, so every call the endpoint sees is
    // the find's.
    const others = new RedisRateLimiter(a.redis, { keyPrefix });
    const limits = limiterParams(5);
    let stopped = false;
    const competing = ['ListSecrets', 'BatchGetSecretValue'].flatMap((bucket) =>
      Array.from({ length: 3 }, async () => {
        while (!stopped) {
          const d = await others.acquire(a.provider.providerKey, bucket, limits, 'other');
          await sleep(Math.max(1, d.waitMs) + (d.allowed ? Math.random() * 300 : 0));
        }
      }),
    );
    try {
      await sleep(1_000);
      // 4 pages of 100 names, then 20 batches of 20 values.
      const { value: found, deferred } = await syncJob(() => syncPass(a.provider, [], () => a.provider.getAllSecrets({ path: 'many/', name: { regexp: '^many/' } })), 20);
      expect(Object.keys(found)).toHaveLength(400);
      expect(text(found['many/123'] as Uint8Array)).toBe('m123');
      console.log(`one admission: a find of 4 pages and 20 batches, deferred ${deferred} times before it paid anything`);
      // Each page and each batch was paid once: a pass deferred after paying would list again.
      expect(endpoint.counts()).toEqual({ ListSecrets: { ok: 4, throttled: 0, error: 0 }, BatchGetSecretValue: { ok: 20, throttled: 0, error: 0 } });
    } finally {
      stopped = true;
      await Promise.all(competing);
      endpoint.setQuota('ListSecrets', 100, 100);
      endpoint.setQuota('BatchGetSecretValue', 100, 100);
      await stopWorkers([a]);
    }
  });
});
