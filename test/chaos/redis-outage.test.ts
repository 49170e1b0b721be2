// Redis unreachable for a minute mid-storm, then back empty (no persistence): scheduler and two
// workers must stay up through a minute of refused connections, must not take the outage for a
// wipe while it lasts, and once Redis answers must rebuild the plan from Kubernetes and finish
// the fleet at the budget — no call over it after Redis returns, nothing throttled, nothing lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/index.js';
import type { SecurityEnv } from '../security/support/security-env.js';
import { busiestSeconds, createFleet, okReads, startChaosRig, type ChaosRig } from './support/fleet.js';

const BUDGET = 20;
const FLEET = 200;
const OUTAGE_MS = 60_000;
/** After Redis returns: the wipe check (3 s), the rebuild and the rest of the fleet (~7 s at the budget). */
const RECOVER_BOUND_MS = 30_000;

let rig: ChaosRig;
let env: SecurityEnv;
const figures: Record<string, number | string> = {};

beforeAll(async () => {
  rig = await startChaosRig('redis-outage', 'standalone', BUDGET);
  env = rig.env;
}, 300_000);

afterAll(async () => {
  await rig?.stop(figures);
});

describe('Redis unreachable for a minute', () => {
  it('every process stays up, and after Redis returns the fleet finishes at the budget', async () => {
    const fleet = await createFleet(env, 'storm', FLEET);
    let ready = 0;
    await waitUntil(async () => ((ready = await fleet.ready()) >= FLEET / 3 ? true : undefined), 120_000, () => `a third of the fleet Ready; last seen ${ready}/${FLEET}`);
    const readyAtFault = ready;
    const callsBefore = okReads(env);
    const downAt = Date.now();
    await rig.redis.nodes[0]!.restart(OUTAGE_MS);
    const backAt = Date.now();
    const callsDuringOutage = env.aws.requests().filter((r) => r.operation === 'GetSecretValue' && r.atMs > downAt + 1000 && r.atMs < backAt).length;
    const exited = () => env.processes.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null).map((p) => p.name);
    expect(exited()).toEqual([]);
    await waitUntil(
      async () => ((ready = await fleet.ready()) === FLEET ? true : undefined),
      RECOVER_BOUND_MS,
      () => `every ExternalSecret Ready after Redis returned; last seen ${ready}/${FLEET} Ready (${readyAtFault} before the outage)`,
    );
    // Seconds before Redis went away and from its return on keep the budget strictly.
    const outageSeconds = new Set<number>();
    for (let sec = Math.floor(downAt / 1000); sec < Math.floor(backAt / 1000); sec++) outageSeconds.add(sec);
    const seen = busiestSeconds(env, outageSeconds);
    Object.assign(figures, {
      readyAtFault,
      outageMs: backAt - downAt,
      callsDuringOutage,
      allReadyAfterReturnMs: Date.now() - backAt,
      callsAfter: okReads(env) - callsBefore,
      duplicates: okReads(env) - FLEET,
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
