// Redis unreachable for a minute mid-storm, then back empty (no persistence): scheduler and two
// workers must stay up through a minute of refused connections, must not take the outage for a
// wipe while it lasts, and once Redis answers must rebuild the plan from Kubernetes and finish
// the fleet at the budget — no call over it after Redis returns, nothing throttled, nothing lost.
import { describe, expect, it } from 'vitest';
import { useChaosRig } from '../support/chaos-rig.js';
import { busiestSeconds, createFleet, okReads, waitForReady } from '../support/chaos-fleet.js';

const BUDGET = 20;
const FLEET = 200;
const OUTAGE_MS = 60_000;
/** After Redis returns: the wipe check (3 s), the rebuild and the rest of the fleet (~7 s at the budget). */
const RECOVER_BOUND_MS = 30_000;

const rig = useChaosRig('redis-outage', { budgetRps: BUDGET });

describe('Redis unreachable for a minute', () => {
  it('every process stays up, and after Redis returns the fleet finishes at the budget', async () => {
    const { env } = rig;
    const fleet = await createFleet(rig, 'storm', FLEET);
    const readyAtFault = await waitForReady(fleet, 120_000, 'before the outage', FLEET / 3);
    const callsBefore = await okReads(rig);
    const downAt = Date.now();
    await rig.redis.nodes[0]!.restart(OUTAGE_MS);
    const backAt = Date.now();
    const callsDuringOutage = (await rig.endpoint.requests()).filter((r) => r.operation === 'GetSecretValue' && r.atMs > downAt + 1000 && r.atMs < backAt).length;
    const exited = () => env.processes.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null).map((p) => p.name);
    expect(exited()).toEqual([]);
    const ready = await waitForReady(fleet, RECOVER_BOUND_MS, `after Redis returned (${readyAtFault} before the outage)`);
    // Seconds before Redis went away and from its return on keep the budget strictly.
    const outageSeconds = new Set<number>();
    for (let sec = Math.floor(downAt / 1000); sec < Math.floor(backAt / 1000); sec++) outageSeconds.add(sec);
    const seen = await busiestSeconds(rig, outageSeconds);
    const calls = await okReads(rig);
    rig.report({
      readyAtFault,
      outageMs: backAt - downAt,
      callsDuringOutage,
      allReadyAfterReturnMs: Date.now() - backAt,
      callsAfter: calls - callsBefore,
      duplicates: calls - FLEET,
      lost: FLEET - ready,
      busiestSecondOutsideOutage: seen.busiestSecond,
      throttled: seen.throttled,
      budget: BUDGET,
    });
    expect(exited()).toEqual([]);
    expect(seen.throttled).toBe(0);
    expect(seen.busiestSecond).toBeLessThanOrEqual(BUDGET);
  });
});
