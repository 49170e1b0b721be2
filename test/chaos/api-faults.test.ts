// The API server misbehaves in every way at once for the whole run: each component (the
// scheduler; the workers) reaches it through a fault proxy that answers 10 % of requests 500,
// 5 % 429 with Retry-After, holds each request 0.1–2 s, and every few seconds cuts the watches
// and forces the next ones to 410 Gone. A fleet of new ExternalSecrets must still converge with
// no status update lost (every ExternalSecret Ready, every Secret holding its value), the store's
// budget kept, and each process's requests held to its client-side limit (--kube-api-qps and
// --kube-api-burst), however many retries the faults cause. (Before the workers sent a write
// answered 500 again, a sync failed with any of its writes and waited out the planner's retry
// backoff, from 5 s and doubling: 115 of 150 were Ready after 3 minutes at 10 % 500s. With every
// request held a flat 2 s, 93 of 100 at load 33: the latency is drawn from 0.1–2 s.)
import { describe, expect, it } from 'vitest';
import { startKubeconfigProxy, type KubeconfigProxy } from '@herdless/lab';
import { useChaosRig } from '../support/chaos-rig.js';
import { busiestSeconds, createFleet, okReads, waitForReady } from '../support/chaos-fleet.js';

const BUDGET = 20;
const FLEET = 100;
/** Per process, low enough to bind: a sync costs the worker two writes or more, at 20 syncs a second. */
const QPS = 10;
const BURST = 10;
const WORKERS = 2;
/** The proxy's request count is sampled this often; the limit is checked over WINDOW_S samples. */
const SAMPLE_MS = 1_000;
const WINDOW_S = 10;
const FAULTS = { errorRate: 0.1, throttleRate: 0.05, retryAfterSeconds: 1, latencyMs: 100, latencyJitterMs: 1_900 };

const proxies = new Map<'scheduler' | 'worker', KubeconfigProxy>();
const rig = useChaosRig('api-faults', {
  budgetRps: BUDGET,
  workers: WORKERS,
  extraArgs: ['--kube-api-qps', String(QPS), '--kube-api-burst', String(BURST)],
  kubeconfigFor: async (component, path) => {
    const proxy = await startKubeconfigProxy({ kubeconfigPath: path, outPath: `${path}.${component}-proxied`, name: component });
    proxies.set(component, proxy);
    rig.onStop(() => proxy.stop());
    return proxy.kubeconfigPath;
  },
});

/**
 * Requests through a proxy that the client-side limit governs: all but the watches restarted
 * after a cut or a forced 410 (core's kube-http limits every request but a watch, which the
 * client's Watch sends itself; the relist after a 410 is limited).
 */
function limitedRequests(p: KubeconfigProxy): number {
  const st = p.proxy.stats();
  return st.requests - st.cutStreams - st.expiredWatches;
}

describe('API server faults, all at once', () => {
  it('a fleet converges with no status update lost, at the budget, each process within its API rate limit', async () => {
    const worker = proxies.get('worker') as KubeconfigProxy;
    const scheduler = proxies.get('scheduler') as KubeconfigProxy;
    const counts: Array<{ atMs: number; worker: number; scheduler: number }> = [];
    // The chaos and the sampler tick together: a count each second, watches cut and expired
    // every third second.
    let tick = 0;
    const sampler = setInterval(() => {
      counts.push({ atMs: Date.now(), worker: limitedRequests(worker), scheduler: limitedRequests(scheduler) });
      if (++tick % 3 === 0) {
        for (const p of proxies.values()) {
          p.proxy.cutWatches();
          p.proxy.expireNextWatches(1);
        }
      }
    }, SAMPLE_MS);
    for (const p of proxies.values()) p.proxy.set(FAULTS);
    const startedAt = Date.now();
    try {
      const fleet = await createFleet(rig, 'api', FLEET);
      await waitForReady(fleet, 180_000, 'under API faults');
      const convergedMs = Date.now() - startedAt;
      for (const p of proxies.values()) p.proxy.reset();
      const wrong: string[] = [];
      for (let i = 0; i < FLEET; i++) {
        const secret = await rig.env.admin.core.readNamespacedSecret({ name: `app-${i}`, namespace: fleet.namespace });
        if (Buffer.from(secret.data?.value ?? '', 'base64').toString('utf8') !== `api-${i}`) wrong.push(`app-${i}`);
      }
      // The most requests over WINDOW_S samples, against what the limit lets through in the time
      // those samples actually spanned (a timer on a busy machine ticks late): per component, the
      // largest excess over the limit (at most 0 when the limit held) and the count at it.
      const processes = { worker: WORKERS, scheduler: 1 };
      const over = (who: 'worker' | 'scheduler') => {
        let worst = { requests: 0, limit: 0, excess: -Infinity };
        counts.slice(WINDOW_S).forEach((c, i) => {
          const from = counts[i] as (typeof counts)[number];
          const requests = c[who] - from[who];
          const limit = processes[who] * ((QPS * (c.atMs - from.atMs)) / 1000 + BURST);
          if (requests - limit > worst.excess) worst = { requests, limit: Math.round(limit), excess: requests - limit };
        });
        return worst;
      };
      const workerStats = worker.proxy.stats();
      const seen = await busiestSeconds(rig, new Set());
      const calls = await okReads(rig);
      rig.report({
        fleet: FLEET,
        latencyMs: `${FAULTS.latencyMs}-${FAULTS.latencyMs + FAULTS.latencyJitterMs}`,
        convergedMs,
        qps: QPS,
        burst: BURST,
        workerRequestsAtWorst: over('worker').requests,
        workerLimitThere: over('worker').limit,
        schedulerRequestsAtWorst: over('scheduler').requests,
        schedulerLimitThere: over('scheduler').limit,
        workerInjected500s: workerStats.injectedErrors,
        workerInjected429s: workerStats.injectedThrottles,
        cutStreams: workerStats.cutStreams + scheduler.proxy.stats().cutStreams,
        expiredWatches: workerStats.expiredWatches + scheduler.proxy.stats().expiredWatches,
        calls,
        busiestSecond: seen.busiestSecond,
        throttled: seen.throttled,
      });
      expect(wrong).toEqual([]);
      expect(workerStats.injectedErrors).toBeGreaterThan(0);
      expect(workerStats.injectedThrottles).toBeGreaterThan(0);
      // A token bucket of BURST at QPS lets at most QPS × t + BURST through in t seconds, per process.
      expect(over('worker').excess).toBeLessThanOrEqual(0);
      expect(over('scheduler').excess).toBeLessThanOrEqual(0);
      expect(seen.throttled).toBe(0);
      expect(seen.busiestSecond).toBeLessThanOrEqual(BUDGET);
      // A write the API server failed is sent again, not the whole sync: the remote value is not
      // read again for it (every write retried 500s: 101 reads for 100; without: 135).
      expect(calls).toBeLessThanOrEqual(FLEET * 1.1);
    } finally {
      clearInterval(sampler);
    }
  });
});
