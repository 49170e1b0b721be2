// The call path on real Redis (the run's private redis-server), our AWS endpoint and the real
// AWS SDK: several "workers" (CallPath instances with their own Redis connections, breakers and
// SDK clients) share one budget; reads coalesce and batch; the limiter adapts to a store whose
// quota is below the budget; an outage costs a few probes.
import { HerdlessError, Reasons } from '@herdless/core';
import { startAwsEndpoint, waitUntil, type AwsEndpoint } from '@herdless/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers, stopWorkers, type RemoteRefLike, type Worker } from './call-path-support.js';

/** A simulated worker's re-run delay after a throttled or failed read (BullMQ's delayed job in the real worker). */
const backOff = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SyncOutcome {
  ok: number;
  terminal: Map<string, string>;
  throttledRetries: number;
  transientRetries: number;
}

/**
 * What a worker does with each job: read; on a throttled error come back after retryAfterMs
 * (with jitter, burning no attempt); on a transient one back off; a terminal one is final.
 */
async function syncAll(workers: Worker[], refs: RemoteRefLike[], concurrencyPerWorker = 16): Promise<SyncOutcome> {
  const out: SyncOutcome = { ok: 0, terminal: new Map(), throttledRetries: 0, transientRetries: 0 };
  let next = 0;
  const one = async (w: Worker) => {
    for (;;) {
      const i = next++;
      if (i >= refs.length) return;
      const ref = refs[i] as RemoteRefLike;
      for (let attempt = 0; ; attempt++) {
        try {
          await w.provider.getSecret(ref);
          out.ok++;
          break;
        } catch (e) {
          if (!(e instanceof HerdlessError)) throw e;
          if (e.retry === 'terminal') {
            out.terminal.set(ref.key, e.reason);
            break;
          }
          if (e.retry === 'throttled') {
            out.throttledRetries++;
            await backOff((e.retryAfterMs ?? 100) * (1 + Math.random()));
          } else {
            out.transientRetries++;
            await backOff(Math.random() * Math.min(2_000, 100 * 2 ** attempt));
          }
        }
      }
    }
  };
  await Promise.all(workers.flatMap((w) => Array.from({ length: concurrencyPerWorker }, () => one(w))));
  return out;
}

describe('CallPath (real Redis, our AWS endpoint, real SDK)', () => {
  let endpoint: AwsEndpoint;

  beforeAll(async () => {
    endpoint = await startAwsEndpoint();
  });
  afterAll(async () => {
    await endpoint?.stop();
  });

  it('four workers sharing a budget of 40/s stay within it in every second and are never throttled', async () => {
    endpoint.clearSecrets();
    endpoint.resetRequests();
    endpoint.setQuota('GetSecretValue', 40, 40);
    for (let i = 0; i < 300; i++) endpoint.putSecret({ name: `budget/${i}`, secretString: `v${i}` });
    const workers = await startWorkers(endpoint, 4, { budgets: { byType: { 'aws-sm': { GetSecretValue: 40 } } }, batching: 'never' });
    try {
      const result = await syncAll(workers, Array.from({ length: 300 }, (_, i) => ({ key: `budget/${i}` })));
      expect(result.ok).toBe(300);
      expect(result.throttledRetries).toBeGreaterThan(0); // the limiter deferred jobs instead of calling
      const seconds = endpoint.requestsPerSecond({ operation: 'GetSecretValue' });
      const peak = Math.max(...seconds.map((s) => s.ok + s.throttled + s.error));
      console.log(`budget: 300 reads in ${seconds.length} s, peak ${peak}/s, deferred ${result.throttledRetries} times`);
      expect(peak).toBeLessThanOrEqual(40);
      expect(endpoint.counts()['GetSecretValue']).toMatchObject({ ok: 300, throttled: 0, error: 0 });
    } finally {
      endpoint.setQuota('GetSecretValue', 10_000, 10_000);
      await stopWorkers(workers);
    }
  });

  it('1,000 reads of 50 secrets in one worker cost ceil(50/20) = 3 BatchGetSecretValue calls; a missing key fails alone', async () => {
    endpoint.clearSecrets();
    endpoint.resetRequests();
    for (let i = 0; i < 50; i++) endpoint.putSecret({ name: `shared/${i}`, secretString: JSON.stringify({ user: `u${i}`, password: `p${i}` }) });
    // Budgets where batching spends less of the binding quota: 100/s singles vs 50/s batches.
    const [worker] = await startWorkers(endpoint, 1, { budgets: { byType: { 'aws-sm': { GetSecretValue: 100, BatchGetSecretValue: 50 } } } });
    try {
      const refs: RemoteRefLike[] = Array.from({ length: 1_000 }, (_, i) => ({ key: `shared/${i % 50}`, property: i % 2 ? 'user' : 'password' }));
      refs.push({ key: 'shared/missing' });
      const result = await syncAll([worker as Worker], refs, 1_001);
      expect(result.ok).toBe(1_000);
      expect([...result.terminal]).toEqual([['shared/missing', Reasons.RemoteKeyNotFound]]);
      const counts = endpoint.counts();
      expect(counts['BatchGetSecretValue']).toEqual({ ok: 3, throttled: 0, error: 0 });
      expect(counts['GetSecretValue']).toBeUndefined();
      expect(text(await (worker as Worker).provider.getSecret({ key: 'shared/7', property: 'user' }))).toBe('u7');
    } finally {
      await stopWorkers([worker as Worker]);
    }
  });

  it('with default budgets single reads win, and identical reads still coalesce', async () => {
    endpoint.clearSecrets();
    endpoint.resetRequests();
    for (let i = 0; i < 10; i++) endpoint.putSecret({ name: `c/${i}`, secretString: 'x' });
    const [worker] = await startWorkers(endpoint, 1, {});
    try {
      const result = await syncAll([worker as Worker], Array.from({ length: 500 }, (_, i) => ({ key: `c/${i % 10}` })), 500);
      expect(result.ok).toBe(500);
      expect(endpoint.counts()['GetSecretValue']?.ok).toBe(10);
      expect(endpoint.counts()['BatchGetSecretValue']).toBeUndefined();
    } finally {
      await stopWorkers([worker as Worker]);
    }
  });

  it("counts a named namespace's calls and the calls its cap deferred; a namespace the operator did not name gets no series", async () => {
    endpoint.clearSecrets();
    endpoint.resetRequests();
    for (let i = 0; i < 7; i++) endpoint.putSecret({ name: `tenant/${i}`, secretString: 'x' });
    const { callPathMetrics, withCallLane } = await import('../src/index.js');
    const byNamespace = async (metric: 'namespaceCalls' | 'namespaceCapped') => {
      const out: Record<string, number> = {};
      for (const v of (await callPathMetrics()[metric].get()).values) out[String(v.labels.namespace)] = (out[String(v.labels.namespace)] ?? 0) + v.value;
      return out;
    };
    // A cap of 0.1 of 20/s: one call every ~530 ms, longer than the limiter's 250 ms wait, so the
    // second of two calls at once is deferred by the cap.
    const [worker] = await startWorkers(endpoint, 1, { batching: 'never', budgets: { byType: { 'aws-sm': { GetSecretValue: 20 } } }, tenants: { caps: { batch: 0.1 } } });
    try {
      const [calls, capped] = [await byNamespace('namespaceCalls'), await byNamespace('namespaceCapped')];
      const read = async (i: number, tenant: string) => {
        for (;;) {
          try {
            return await withCallLane('urgent', () => (worker as Worker).provider.getSecret({ key: `tenant/${i}` }), tenant);
          } catch (e) {
            if (!(e instanceof HerdlessError) || e.retry !== 'throttled') throw e;
            await backOff(e.retryAfterMs ?? 100);
          }
        }
      };
      await Promise.all([...[0, 1, 2, 3].map((i) => read(i, 'batch')), ...[4, 5, 6].map((i) => read(i, 'team-x'))]);
      const [callsAfter, cappedAfter] = [await byNamespace('namespaceCalls'), await byNamespace('namespaceCapped')];
      expect((callsAfter['batch'] ?? 0) - (calls['batch'] ?? 0)).toBe(4);
      expect((cappedAfter['batch'] ?? 0) - (capped['batch'] ?? 0)).toBeGreaterThanOrEqual(1);
      expect(Object.keys(callsAfter)).not.toContain('team-x');
      expect(Object.keys(cappedAfter)).not.toContain('team-x');
      expect(endpoint.counts()['GetSecretValue']?.ok).toBe(7);
    } finally {
      await stopWorkers([worker as Worker]);
    }
  });

  it('counts each call it sends by lane, as the store counts them', async () => {
    endpoint.clearSecrets();
    endpoint.resetRequests();
    for (let i = 0; i < 12; i++) endpoint.putSecret({ name: `lane/${i}`, secretString: 'x' });
    const { callPathMetrics, withCallLane } = await import('../src/index.js');
    const sentByLane = async () => {
      const out: Record<string, number> = {};
      for (const v of (await callPathMetrics().sent.get()).values) out[String(v.labels.lane)] = (out[String(v.labels.lane)] ?? 0) + v.value;
      return out;
    };
    const [worker] = await startWorkers(endpoint, 1, { batching: 'never' });
    try {
      const before = await sentByLane();
      const read = (i: number) => (worker as Worker).provider.getSecret({ key: `lane/${i}` });
      // Distinct keys (no coalescing): 3 routine, 5 urgent, 4 outside any sync.
      await Promise.all([0, 1, 2].map((i) => withCallLane('routine', () => read(i))));
      await Promise.all([3, 4, 5, 6, 7].map((i) => withCallLane('urgent', () => read(i))));
      await Promise.all([8, 9, 10, 11].map(read));
      const after = await sentByLane();
      const delta = (lane: string) => (after[lane] ?? 0) - (before[lane] ?? 0);
      expect({ routine: delta('routine'), urgent: delta('urgent'), other: delta('other') }).toEqual({ routine: 3, urgent: 5, other: 4 });
      expect(endpoint.counts()['GetSecretValue']?.ok).toBe(12);
    } finally {
      await stopWorkers([worker as Worker]);
    }
  });

  it('with the store quota (15/s) below the budget (50/s), the limiter converges and throttles stop', async () => {
    endpoint.clearSecrets();
    endpoint.resetRequests();
    endpoint.setQuota('GetSecretValue', 15, 15);
    for (let i = 0; i < 100; i++) endpoint.putSecret({ name: `adapt/${i}`, secretString: 'x' });
    const workers = await startWorkers(endpoint, 2, { budgets: { byType: { 'aws-sm': { GetSecretValue: 50 } } }, batching: 'never', coalesceWindowMs: 1 });
    const started = Date.now();
    try {
      // ~25 s of demand well above the quota.
      const refs = Array.from({ length: 15 * 25 }, (_, i) => ({ key: `adapt/${i % 100}` }));
      const result = await syncAll(workers, refs, 8);
      expect(result.ok).toBe(refs.length);
      const seconds = endpoint.requestsPerSecond({ operation: 'GetSecretValue' });
      const throttledSeconds = seconds.filter((s) => s.throttled > 0).map((s) => s.second * 1000 - started);
      console.log(
        `adaptive: ${seconds.length} s, throttled ${endpoint.counts()['GetSecretValue']?.throttled} calls in seconds at ${throttledSeconds.map((ms) => (ms / 1000).toFixed(0)).join(', ')} s; ok/s ${seconds.map((s) => s.ok).join(' ')}`,
      );
      expect(endpoint.counts()['GetSecretValue']?.throttled).toBeGreaterThan(0);
      expect(Math.max(...throttledSeconds)).toBeLessThan(15_000);
      // The last 5 seconds ran close to the store's quota, not far below it.
      const tail = seconds.slice(-6, -1);
      expect(tail.reduce((a, s) => a + s.ok, 0) / tail.length).toBeGreaterThan(15 * 0.6);
    } finally {
      endpoint.setQuota('GetSecretValue', 10_000, 10_000);
      await stopWorkers(workers);
    }
  }, 120_000);

  it('an outage costs a few probe calls per worker, and everything converges after it', async () => {
    const port = endpoint.port;
    const seed = (e: AwsEndpoint) => {
      for (let i = 0; i < 300; i++) e.putSecret({ name: `outage/${i}`, secretString: 'x' });
    };
    endpoint.clearSecrets();
    seed(endpoint);
    // 20/s: the store is being read steadily when it goes down.
    const workers = await startWorkers(endpoint, 2, {
      budgets: { byType: { 'aws-sm': { GetSecretValue: 20 } } },
      batching: 'never',
      breaker: { resetTimeoutMs: 500, maxResetTimeoutMs: 4_000 },
    });
    const attempts = { during: 0 };
    const { callPathMetrics } = await import('../src/index.js');
    const errorsNow = async () =>
      (await callPathMetrics().requests.get()).values.filter((v) => v.labels.outcome === 'error').reduce((a, v) => a + v.value, 0);
    try {
      const sync = syncAll(workers, Array.from({ length: 300 }, (_, i) => ({ key: `outage/${i}` })), 16);
      const reads = () => endpoint.requests({ operation: 'GetSecretValue' }).length;
      await waitUntil(() => (reads() >= 40 ? true : undefined), 60_000, () => `${reads()} reads`);
      await endpoint.stop(); // connection refused: the store is down
      const before = await errorsNow();
      // The outage lasts until every worker's breaker is open and the workers have then sent two
      // failing probes each on average (a failed probe opens a breaker again, for twice as long).
      const breakers = () => workers.map((w) => w.path.breakerState(w.provider.providerKey, w.provider.credentialIdentity));
      const opened = await waitUntil(async () => (breakers().every((b) => b === 'open') ? await errorsNow() : undefined), 60_000, () => `breakers ${breakers().join(', ')}`);
      await waitUntil(async () => ((await errorsNow()) >= opened + 2 * workers.length ? true : undefined), 60_000, () => `breakers ${breakers().join(', ')}`);
      attempts.during = (await errorsNow()) - before;
      endpoint = await startAwsEndpoint({ port });
      seed(endpoint);
      const result = await sync;
      console.log(`outage: ${attempts.during} calls sent while down (2 workers, until their breakers failed 4 probes), then ${result.ok} synced`);
      expect(result.ok).toBe(300);
      expect(attempts.during).toBeLessThan(25);
      expect(workers.every((w) => w.path.breakerState(w.provider.providerKey, w.provider.credentialIdentity) === 'closed')).toBe(true);
    } finally {
      await stopWorkers(workers);
    }
  }, 120_000);
});

function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}
