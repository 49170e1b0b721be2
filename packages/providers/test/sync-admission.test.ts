// One sync, one admission, through the whole call path (real Redis, our AWS endpoint, the real
// SDK): a sync with many reads, and a find with many pages, each complete in one pass while
// other workers keep the same buckets busy, and every call they paid for is sent once: a sync
// that holds its admission is never deferred. The store sees no second over budget and no
// throttle. Each sync runs as the worker's fetch step does (Provider.admitSync, in its lane).
import { HerdlessError } from '@herdless/core';
import { startAwsEndpoint, type AwsEndpoint } from '@herdless/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limiterParams, RedisRateLimiter, withCallLane, type VersionedKey } from '../src/index.js';
import { limiterPrefix, startWorkers, stopWorkers, type Provider, type Worker } from './call-path-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** One sync pass as the worker's fetch step makes it: the known reads admitted as one, in the sync's lane. */
function syncPass<T>(provider: Provider, refs: readonly VersionedKey[], fetch: () => Promise<T>): Promise<T> {
  const pass = withCallLane('urgent', () => (provider.admitSync ? provider.admitSync(refs, fetch) : fetch()));
  // Awaited by the test once it has started the competing load; not an unhandled rejection meanwhile.
  pass.catch(() => undefined);
  return pass;
}

/**
 * Resolves once the pass just started has queued its first booking: everything up to its Redis
 * command runs in microtasks, and this resolves in the next turn of the event loop. The
 * competing load starts after it, so the sync meets an idle bucket first (a deferral before it
 * paid anything is not what these tests judge) and a busy one for all that follows.
 */
const afterFirstBooking = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Load that runs until `stop()`; a failure of it surfaces there, and every test calls it in its finally. */
function competingLoad(loops: number, step: (i: number) => Promise<void>): { stop(): Promise<number> } {
  let stopped = false;
  let steps = 0;
  const done = Promise.all(
    Array.from({ length: loops }, async (_, n) => {
      for (let i = n; !stopped; i += loops) {
        await step(i);
        steps++;
      }
    }),
  );
  done.catch(() => undefined);
  return {
    async stop() {
      stopped = true;
      await done;
      return steps;
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
    const refs = Array.from({ length: 200 }, (_, i) => ({ key: `large/${i}` }));
    const pass = syncPass(a.provider, refs, () => Promise.all(refs.map((r) => a.provider.getSecret(r))));
    await afterFirstBooking();
    // Another worker's single-read syncs, each of a key no other sync reads at that moment (one
    // call each), coming back when deferred as re-delayed jobs do.
    const small = (i: number) => ({ key: `small/${i % 1_000}` });
    let smallSyncs = 0;
    const busy = competingLoad(4, async (i) => {
      try {
        await syncPass(b.provider, [small(i)], () => b.provider.getSecret(small(i)));
        smallSyncs++;
      } catch (e) {
        if (!(e instanceof HerdlessError) || e.retry !== 'throttled') throw e;
        await sleep(e.retryAfterMs ?? 100);
      }
    });
    try {
      const values = await pass;
      await busy.stop();
      expect(values.map(text)).toEqual(refs.map((_, i) => `value-${i}`));
      expect(smallSyncs).toBeGreaterThan(0);
      const seconds = endpoint.requestsPerSecond({ operation: 'GetSecretValue' });
      const peak = Math.max(...seconds.map((s) => s.ok + s.throttled + s.error));
      console.log(`one admission: 200 reads in one pass beside ${smallSyncs} single-read syncs, ${seconds.length} s, peak ${peak}/s`);
      // Every read paid for was sent once: the 200 and one per small sync, nothing again.
      expect(endpoint.counts()['GetSecretValue']).toEqual({ ok: 200 + smallSyncs, throttled: 0, error: 0 });
      expect(peak).toBeLessThanOrEqual(40);
    } finally {
      await busy.stop();
      endpoint.setQuota('GetSecretValue', 10_000, 10_000);
      await stopWorkers([a, b]);
    }
  });

  it("a sync whose reads all join another sync's reads in flight asks the limiter nothing: it completes with them while that sync holds the bucket", async () => {
    endpoint.clearSecrets();
    endpoint.resetRequests();
    endpoint.setQuota('GetSecretValue', 40, 40);
    for (let i = 0; i < 100; i++) endpoint.putSecret({ name: `shared/${i}`, secretString: `shared-${i}` });
    const [a] = (await startWorkers(endpoint, 1, { budgets: { byType: { 'aws-sm': { GetSecretValue: 40 } } }, batching: 'never', coalesceWindowMs: 1 })) as [Worker];
    try {
      const refs = Array.from({ length: 100 }, (_, i) => ({ key: `shared/${i}` }));
      const read = () => Promise.all(refs.map((r) => a.provider.getSecret(r)));
      // The first books the next second of the bucket; a booking of the second would be deferred.
      const [first, second] = await Promise.all([syncPass(a.provider, refs, read), syncPass(a.provider, refs, read)]);
      expect(second.map(text)).toEqual(first.map(text));
      expect(endpoint.counts()['GetSecretValue']).toEqual({ ok: 100, throttled: 0, error: 0 });
    } finally {
      endpoint.setQuota('GetSecretValue', 10_000, 10_000);
      await stopWorkers([a]);
    }
  });

  it('a find with many pages (ListSecrets, then BatchGetSecretValue) completes in one pass while other workers keep both buckets busy, each page and batch paid once', async () => {
    endpoint.clearSecrets();
    endpoint.resetRequests();
    endpoint.setQuota('ListSecrets', 5, 5);
    endpoint.setQuota('BatchGetSecretValue', 5, 5);
    for (let i = 0; i < 400; i++) endpoint.putSecret({ name: `many/${String(i).padStart(3, '0')}`, secretString: `m${i}` });
    const budgets = { 'aws-sm': { GetSecretValue: 40, ListSecrets: 5, BatchGetSecretValue: 5 } };
    const keyPrefix = limiterPrefix();
    const [a] = (await startWorkers(endpoint, 1, { budgets: { byType: budgets }, coalesceWindowMs: 1 }, keyPrefix)) as [Worker];
    // 4 pages of 100 names, then 20 batches of 20 values.
    const pass = syncPass(a.provider, [], () => a.provider.getAllSecrets({ path: 'many/', name: { regexp: '^many/' } }));
    await afterFirstBooking();
    // The other workers: single calls on both buckets, more than the budget, each coming back
    // when deferred, the next one starting a moment after a call went out (its job ended). They
    // book on the shared limiter (on the find's connection: Redis serves its commands in order)
    // without calling the store, so every call the endpoint sees is the find's.
    const others = new RedisRateLimiter(a.redis, { keyPrefix });
    const limits = limiterParams(5);
    const buckets = ['ListSecrets', 'BatchGetSecretValue'];
    const busy = competingLoad(6, async (i) => {
      const d = await others.acquire(a.provider.providerKey, buckets[i % 2] as string, limits, 'other');
      await sleep(Math.max(1, d.waitMs) + (d.allowed ? Math.random() * 300 : 0));
    });
    try {
      const found = await pass;
      const competing = await busy.stop();
      expect(Object.keys(found)).toHaveLength(400);
      expect(text(found['many/123'] as Uint8Array)).toBe('m123');
      console.log(`one admission: a find of 4 pages and 20 batches in one pass beside ${competing} competing admissions asked for`);
      // Each page and each batch paid once: a pass deferred after paying would have listed again.
      expect(endpoint.counts()).toEqual({ ListSecrets: { ok: 4, throttled: 0, error: 0 }, BatchGetSecretValue: { ok: 20, throttled: 0, error: 0 } });
    } finally {
      await busy.stop();
      endpoint.setQuota('ListSecrets', 100, 100);
      endpoint.setQuota('BatchGetSecretValue', 100, 100);
      await stopWorkers([a]);
    }
  });
});
