// A worker killed mid-sync (SIGKILL: no shutdown, its locks left to lapse): scheduler and two
// workers sync a fleet of new ExternalSecrets at a budget the endpoint enforces; a third of the
// way in, one worker is killed. Its active jobs must be taken over (BullMQ's stalled-job check
// on the survivor, then the scheduler's sweep as a backstop): every ExternalSecret Ready, every
// Secret holding exactly its remote value, nothing throttled, no second over the budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/index.js';
import type { SecurityEnv } from '../security/support/security-env.js';
import { busiestSeconds, createFleet, okReads, startChaosRig, type ChaosRig } from './support/fleet.js';

const BUDGET = 20;
const FLEET = 200;
/** A lapsed lock is found by the survivor's stalled check: lock 30 s + check every 30 s, plus the rest of the fleet. */
const CONVERGE_BOUND_MS = 120_000;

let rig: ChaosRig;
let env: SecurityEnv;
const figures: Record<string, number | string> = {};

beforeAll(async () => {
  rig = await startChaosRig('worker-kill', 'standalone', BUDGET);
  env = rig.env;
}, 300_000);

afterAll(async () => {
  await rig?.stop(figures);
});

describe('a worker killed mid-sync', () => {
  it('its jobs are taken over: every ExternalSecret Ready with exactly its value, at the budget', async () => {
    const fleet = await createFleet(env, 'storm', FLEET);
    let ready = 0;
    await waitUntil(async () => ((ready = await fleet.ready()) >= FLEET / 3 ? true : undefined), 120_000, () => `a third of the fleet Ready; last seen ${ready}/${FLEET}`);
    const readyAtKill = ready;
    const victim = env.processes.find((p) => p.name.startsWith('worker-'));
    if (!victim) throw new Error(`expected a worker among ${env.processes.map((p) => p.name).join(', ')}`);
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await waitUntil(
      async () => ((ready = await fleet.ready()) === FLEET ? true : undefined),
      CONVERGE_BOUND_MS,
      () => `every ExternalSecret Ready after the kill; last seen ${ready}/${FLEET} Ready (${readyAtKill} at the kill)`,
    );
    const wrong: string[] = [];
    for (let i = 0; i < FLEET; i++) {
      const secret = await env.admin.core.readNamespacedSecret({ name: `app-${i}`, namespace: fleet.namespace });
      const value = Buffer.from(secret.data?.value ?? '', 'base64').toString('utf8');
      if (value !== `storm-${i}`) wrong.push(`app-${i}: ${value.length} bytes`);
    }
    const seen = busiestSeconds(env, new Set());
    Object.assign(figures, {
      readyAtKill,
      allReadyAfterMs: Date.now() - killedAt,
      calls: okReads(env),
      duplicates: okReads(env) - FLEET,
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
