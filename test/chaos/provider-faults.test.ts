// The store misbehaves, Herdless must not: a scheduler and two workers (separate processes, the
// chart's RBAC) sync fleets of new ExternalSecrets at a budget our AWS endpoint enforces, while
// the endpoint holds its replies past the SDK's timeout, answers a share of reads with 500s, and
// enforces a quota below the configured budget. Each fault must cost a bounded number of calls
// (the timeouts and the breaker, the retry backoff, the adaptive limiter: no endless retry, no
// herd when it ends), and every ExternalSecret must be Ready after it, with no second over the
// budget. The minute-long outage has a file of its own (provider-outage.test.ts).
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/index.js';
import { useChaosRig } from '../support/chaos-rig.js';
import { busiestSeconds, createFleet, markFaultSeconds, waitForReady, watchSecretWrites, type Fleet } from '../support/chaos-fleet.js';

const BUDGET = 20;
const FLEET = 100;
/** Slow replies: each read arriving in the window is held this long, past the SDK's request timeout (10 s, aws-client-config.ts) and the breaker's call timeout (12 s). */
const HOLD_MS = 15_000;
const SLOW_WINDOW_MS = 15_000;
const SLOW_FLEET = 60;
/** Share of reads answered 500 InternalServiceError. */
const ERROR_RATE = 0.1;
/** The quota the endpoint lowers GetSecretValue to, below the configured budget. */
const LOWERED_RPS = 10;

const rig = useChaosRig('provider-faults', { budgetRps: BUDGET });

/** GetSecretValue requests of `fleet` the endpoint decided in [fromMs, toMs), by outcome. */
async function readsOf(fleet: Fleet, fromMs = 0, toMs = Infinity): Promise<{ ok: number; throttled: number; error: number }> {
  const counts = { ok: 0, throttled: 0, error: 0 };
  for (const r of await rig.endpoint.requests()) if (r.operation === 'GetSecretValue' && r.accessKeyId === fleet.accessKeyId && r.atMs >= fromMs && r.atMs < toMs) counts[r.outcome]++;
  return counts;
}

/** Whether a worker's breaker is open now (the gauge reads 2). */
async function breakerOpen(): Promise<boolean> {
  return (await rig.env.workerMetrics()).some((m) => m.split('\n').some((l) => l.startsWith('herdless_circuit_breaker_state{') && l.endsWith(' 2')));
}

describe('the store fails; Herdless costs it little and recovers', () => {
  it('replies held past the SDK timeout fail the call and open the breaker; each is retried later, nothing is written twice, all Ready after', async () => {
    const { env } = rig;
    const secrets = await watchSecretWrites(env.admin.kc, `slow-${env.run}`);
    try {
      const fleet = await createFleet(rig, 'slow', SLOW_FLEET);
      const readyAtFault = await waitForReady(fleet, 120_000, 'before the slow replies', SLOW_FLEET / 3);
      const delayedBefore = (await rig.endpoint.faults.state()).injected.delayed;
      const faultAt = Date.now();
      await rig.endpoint.faults.update({ operations: ['GetSecretValue'], slowReplies: { holdMs: HOLD_MS, forMs: SLOW_WINDOW_MS } });
      const windowEnd = faultAt + SLOW_WINDOW_MS;
      let breakerOpened = false;
      let ready = readyAtFault;
      await waitUntil(
        async () => {
          breakerOpened ||= await breakerOpen();
          ready = await fleet.ready();
          return ready === SLOW_FLEET && Date.now() >= windowEnd ? true : undefined;
        },
        SLOW_WINDOW_MS + 60_000,
        () => `every ExternalSecret Ready after the slow replies; last seen ${ready}/${SLOW_FLEET} (${readyAtFault} at the fault), breaker seen open: ${breakerOpened}`,
        500,
      );
      const callsDuringFault = (await rig.endpoint.faults.state()).injected.delayed - delayedBefore;
      await rig.endpoint.faults.reset();
      const wrong: string[] = [];
      for (let i = 0; i < SLOW_FLEET; i++) {
        const secret = await env.admin.core.readNamespacedSecret({ name: `app-${i}`, namespace: fleet.namespace });
        if (Buffer.from(secret.data?.value ?? '', 'base64').toString('utf8') !== `slow-${i}`) wrong.push(`app-${i}`);
      }
      const writtenTwice = [...secrets.writes].filter(([, types]) => types.length !== 1 || types[0] !== 'ADDED').map(([name, types]) => `${name}: ${types.join(',')}`);
      // A held reply is decided (and logged) when its hold ends, long after the worker gave up
      // on it: those seconds are the fault's, reported apart.
      const faultSeconds = new Set<number>();
      markFaultSeconds(faultSeconds, faultAt, windowEnd + HOLD_MS);
      const seen = await busiestSeconds(rig, faultSeconds);
      const reads = await readsOf(fleet);
      rig.report({
        fault: 'slow replies',
        holdMs: HOLD_MS,
        windowMs: SLOW_WINDOW_MS,
        fleet: SLOW_FLEET,
        readyAtFault,
        callsDuringFault,
        breakerOpened: String(breakerOpened),
        allReadyAfterWindowMs: Date.now() - windowEnd,
        // Reads the endpoint served, held ones included (their replies went to a closed connection).
        servedReads: reads.ok,
        writtenTwice: writtenTwice.length,
        lost: SLOW_FLEET - ready,
        busiestSecond: seen.busiestSecond,
        busiestFaultSecond: seen.busiestFaultSecond,
        throttled: seen.throttled,
      });
      // The timeouts turned each held reply into a failure the breaker counts.
      expect(breakerOpened).toBe(true);
      // The calls of the window: at most those pending when it began, and a few probes.
      expect(callsDuringFault).toBeLessThanOrEqual(SLOW_FLEET - readyAtFault + 2 * 4);
      expect(wrong).toEqual([]);
      expect(secrets.writes.size).toBe(SLOW_FLEET);
      expect(writtenTwice).toEqual([]);
      expect(seen.throttled).toBe(0);
      expect(seen.busiestSecond).toBeLessThanOrEqual(BUDGET);
    } finally {
      await rig.endpoint.faults.reset();
      secrets.stop();
    }
  });

  it('with 10 % of reads answered 500, each failed sync is retried with backoff (no retry storm) until all are Ready', async () => {
    const startedAt = Date.now();
    await rig.endpoint.faults.update({ errorRate: ERROR_RATE, operations: ['GetSecretValue'] });
    const fleet = await createFleet(rig, 'errors', FLEET);
    try {
      // The planner's retry: full jitter from 5 s, doubling; three failures in a row (1 in 1,000
      // ExternalSecrets at 10 %) wait up to 5 + 10 + 20 s.
      await waitForReady(fleet, 90_000, 'with 500s');
    } finally {
      await rig.endpoint.faults.reset();
    }
    const reads = await readsOf(fleet);
    const seen = await busiestSeconds(rig, new Set());
    rig.report({ fault: '500s', errorRate: ERROR_RATE, allReadyAfterMs: Date.now() - startedAt, ok: reads.ok, errors: reads.error, busiestSecond: seen.busiestSecond, busiestTwoSeconds: seen.busiestTwoSeconds, throttled: seen.throttled });
    // About one read per sync (a run saw 101 of 100), and each error cost one retry, no more:
    // expected FLEET × 0.1 / 0.9 ≈ 11 errors; a retry storm would be unbounded.
    expect(reads.ok).toBeGreaterThanOrEqual(FLEET);
    expect(reads.ok).toBeLessThanOrEqual(FLEET * 1.05);
    expect(reads.error).toBeLessThanOrEqual(FLEET / 3);
    expect(seen.throttled).toBe(0);
    // The endpoint records a request when its quota admits it: a stall of its process moves an
    // admission into the next second (a full run with it in this process, at load 2–5, saw 21
    // at 20 and 0 throttled). The limiter's line is held over every two seconds, and no second is
    // over by more than the one request a boundary can move.
    expect(seen.busiestTwoSeconds).toBeLessThanOrEqual(2 * BUDGET);
    expect(seen.busiestSecond).toBeLessThanOrEqual(BUDGET + 1);
  });

  it(`with the quota lowered to ${LOWERED_RPS}/s below the budget of ${BUDGET}/s, the limiter adapts: throttling stops, all Ready, and the quota is restored after`, async () => {
    const { env } = rig;
    const startedAt = Date.now();
    await rig.endpoint.faults.update({ lowerQuota: { operation: 'GetSecretValue', rps: LOWERED_RPS, burst: LOWERED_RPS } });
    const fleet = await createFleet(rig, 'quota', 3 * FLEET);
    try {
      await waitForReady(fleet, 180_000, 'under the lowered quota');
    } finally {
      // Ends the fault: the configured quota back, its bucket full.
      await rig.endpoint.faults.reset();
    }
    const reads = await readsOf(fleet);
    const throttledAt = (await rig.endpoint.requests()).filter((r) => r.operation === 'GetSecretValue' && r.accessKeyId === fleet.accessKeyId && r.outcome === 'throttled').map((r) => r.atMs);
    const lastThrottleAfterMs = throttledAt.length === 0 ? 0 : Math.max(...throttledAt) - startedAt;
    const tookMs = Date.now() - startedAt;
    rig.report({ fault: 'quota', quotaRps: LOWERED_RPS, budget: BUDGET, allReadyAfterMs: tookMs, ok: reads.ok, throttled: reads.throttled, lastThrottleAfterMs, floorMs: Math.round(((3 * FLEET) / LOWERED_RPS) * 1000) });
    expect(reads.ok).toBeGreaterThanOrEqual(3 * FLEET);
    // AWS's adaptive retry mode: throttles while the rate comes down (each lowers it once per
    // cooldown), then few: runs saw 5 (the last 2.9 s in) on a quiet machine and 61 on one
    // loaded 10× over. Without the adaptation every second call at twice the quota is throttled.
    expect(reads.throttled).toBeLessThanOrEqual(reads.ok / 4);
    // Back at the configured quota: a new fleet syncs at the budget without a throttle.
    const recovered = await createFleet(rig, 'restored', FLEET / 2);
    await waitForReady(recovered, 60_000, 'after the quota was restored');
    expect((await readsOf(recovered)).throttled).toBe(0);
  });
});
