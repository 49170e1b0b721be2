// The store down for a full minute mid-storm (every GetSecretValue answered 503): a scheduler and
// two workers (separate processes, the chart's RBAC) sync a fleet of new ExternalSecrets at a
// budget our AWS endpoint enforces. The breakers must hold the calls of the whole minute to a few
// probes per worker (no endless retry, no herd when it ends), and every ExternalSecret must be
// Ready soon after it, with no second over the budget. Alone in its file: it is the longest fault.
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/index.js';
import { useChaosRig } from '../support/chaos-rig.js';
import { busiestSeconds, createFleet, waitForReady } from '../support/chaos-fleet.js';

const BUDGET = 20;
/** Small: the minute is the scenario, not the fleet (CI time). */
const FLEET = 30;
const OUTAGE_MS = 60_000;
/**
 * Calls the outage may cost: each worker's breaker opens after 5 consecutive unavailable replies
 * (circuit-breakers.ts) and then probes once per reset time, 2 s doubling up to 30 s (2, 4, 8,
 * 16, 30 s: 5 probes in a minute), plus the calls already admitted when it opened. Without the
 * breaker every pending sync is tried and retried for the whole minute.
 */
const OUTAGE_CALLS_BOUND = 2 * (5 + 5) + 10;
/** After the end: the next probe (up to the 30 s cap away), then the rest at the budget. */
const CONVERGE_AFTER_END_MS = 60_000;

const rig = useChaosRig('provider-outage', { budgetRps: BUDGET });

describe('the store down for a minute', () => {
  it('the outage costs a few probe calls per worker, and every ExternalSecret is Ready soon after it ends', async () => {
    const { env } = rig;
    const fleet = await createFleet(rig, 'outage', FLEET);
    const readyAtFault = await waitForReady(fleet, 120_000, 'before the outage', FLEET / 3);
    const faultAt = Date.now();
    await rig.endpoint.faults.update({ outageForMs: OUTAGE_MS });
    const endsAt = faultAt + OUTAGE_MS;
    // The breakers seen open meanwhile (a gauge: 2 = open), as the evidence that they held the calls.
    let breakerOpened = false;
    let ready = readyAtFault;
    await waitUntil(
      async () => {
        if (!breakerOpened) breakerOpened = (await env.workerMetrics()).some((m) => m.split('\n').some((l) => l.startsWith('herdless_circuit_breaker_state{') && l.endsWith(' 2')));
        ready = await fleet.ready();
        return ready === FLEET && Date.now() >= endsAt ? true : undefined;
      },
      OUTAGE_MS + CONVERGE_AFTER_END_MS,
      () => `every ExternalSecret Ready after the outage; last seen ${ready}/${FLEET} (${readyAtFault} at the fault), breaker seen open: ${breakerOpened}`,
      500,
    );
    const reads = (await rig.endpoint.requests()).filter((r) => r.operation === 'GetSecretValue' && r.accessKeyId === fleet.accessKeyId);
    const callsDuringOutage = reads.filter((r) => r.atMs >= faultAt && r.atMs < endsAt).length;
    const after = reads.filter((r) => r.atMs >= endsAt);
    const seen = await busiestSeconds(rig, new Set());
    rig.report({
      fault: 'outage',
      outageMs: OUTAGE_MS,
      fleet: FLEET,
      readyAtFault,
      callsDuringOutage,
      breakerOpened: String(breakerOpened),
      allReadyAfterEndMs: Date.now() - endsAt,
      callsAfter: after.length,
      duplicates: reads.filter((r) => r.outcome === 'ok').length - FLEET,
      lost: FLEET - ready,
      busiestSecond: seen.busiestSecond,
      throttled: seen.throttled,
    });
    expect(breakerOpened).toBe(true);
    expect(callsDuringOutage).toBeLessThanOrEqual(OUTAGE_CALLS_BOUND);
    expect(seen.throttled).toBe(0);
    expect(seen.busiestSecond).toBeLessThanOrEqual(BUDGET);
  });
});
