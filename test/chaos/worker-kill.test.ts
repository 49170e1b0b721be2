// A worker killed mid-sync (SIGKILL: no shutdown, its locks left to lapse): scheduler and two
// workers sync a fleet of new ExternalSecrets at a budget the endpoint enforces; a third of the
// way in, one worker is killed. Its active jobs must be taken over (BullMQ's stalled-job check
// on the survivor, then the scheduler's sweep as a backstop): every ExternalSecret Ready, every
// Secret holding exactly its remote value, nothing throttled, no second over the budget.
import { describe, expect, it } from 'vitest';
import { useChaosRig } from '../support/chaos-rig.js';
import { busiestSeconds, createFleet, okReads, waitForReady } from '../support/chaos-fleet.js';

const BUDGET = 20;
const FLEET = 200;
/** A lapsed lock is found by the survivor's stalled check: lock 30 s + check every 30 s, plus the rest of the fleet. */
const CONVERGE_BOUND_MS = 120_000;

const rig = useChaosRig('worker-kill', { budgetRps: BUDGET });

describe('a worker killed mid-sync', () => {
  it('its jobs are taken over: every ExternalSecret Ready with exactly its value, at the budget', async () => {
    const { env } = rig;
    const fleet = await createFleet(rig, 'storm', FLEET);
    const readyAtKill = await waitForReady(fleet, 120_000, 'before the kill', FLEET / 3);
    const victim = env.processes.find((p) => p.name.startsWith('worker-'));
    if (!victim) throw new Error(`expected a worker among ${env.processes.map((p) => p.name).join(', ')}`);
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    const ready = await waitForReady(fleet, CONVERGE_BOUND_MS, `after the kill (${readyAtKill} at the kill)`);
    const wrong: string[] = [];
    for (let i = 0; i < FLEET; i++) {
      const secret = await env.admin.core.readNamespacedSecret({ name: `app-${i}`, namespace: fleet.namespace });
      const value = Buffer.from(secret.data?.value ?? '', 'base64').toString('utf8');
      if (value !== `storm-${i}`) wrong.push(`app-${i}: ${value.length} bytes`);
    }
    const seen = await busiestSeconds(rig, new Set());
    const calls = await okReads(rig);
    rig.report({
      readyAtKill,
      allReadyAfterMs: Date.now() - killedAt,
      calls,
      duplicates: calls - FLEET,
      lost: FLEET - ready,
      busiestSecond: seen.busiestSecond,
      throttled: seen.throttled,
      budget: BUDGET,
    });
    expect(wrong).toEqual([]);
    expect(seen.throttled).toBe(0);
    expect(seen.busiestSecond).toBeLessThanOrEqual(BUDGET);
  });
});
