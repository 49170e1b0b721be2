// One worker cut off from Redis (a partition: its connections stay open, nothing flows, nothing
// tells it) while the scheduler and the other worker go on, with reads slowed so that it holds
// jobs mid-call; it still reaches the API server and the store. Its jobs must move to the other worker (their locks lapse, BullMQ's stalled-job
// check hands them over), it must make no call it was not admitted for (its limiter is in
// Redis), and when the partition heals it must not write what the other worker already wrote:
// every ExternalSecret Ready, each Secret written once, no second over the budget.
import { beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/index.js';
import { metricValue } from '../security/support/security-env.js';
import { useChaosRig } from '../support/chaos-rig.js';
import { busiestSeconds, createFleet, okReads, waitForReady, watchSecretWrites } from '../support/chaos-fleet.js';
import { startTcpPartition, type TcpPartition } from '../support/tcp-partition.js';

const BUDGET = 20;
const FLEET = 200;
/** The victim's locks lapse after 30 s and the survivor's stalled check runs every 30 s; then the rest of the fleet. */
const TAKEOVER_BOUND_MS = 120_000;
/** Reads this slow keep jobs in flight on both workers when the partition comes. */
const SLOW_READ_MS = 3_000;

const rig = useChaosRig('worker-partition', { budgetRps: BUDGET, workers: 1 });
let relay: TcpPartition;

beforeAll(async () => {
  relay = await startTcpPartition(rig.redis.nodes[0]!.port);
  rig.onStop(() => relay.stop());
  await rig.addWorkers(1, ['--redis-url', `redis://127.0.0.1:${relay.port}`]);
});

describe('a worker partitioned from Redis', () => {
  it('its jobs move to the other worker, and when it returns it writes nothing twice and calls nothing unadmitted', async () => {
    const { env } = rig;
    // createFleet's namespace: `<name>-<run>`.
    const secrets = await watchSecretWrites(env.admin.kc, `split-${env.run}`);
    const fleet = await createFleet(rig, 'split', FLEET);
    try {
      const readyAtPartition = await waitForReady(fleet, 120_000, 'before the partition', FLEET / 3);
      // Slow reads (3 s) so that each worker holds dozens of jobs mid-call when the partition
      // comes: the victim's finish their writes to Kubernetes but can never tell Redis, so their
      // locks lapse and the survivor's stalled-job check runs them again.
      await rig.endpoint.faults.update({ latencyMs: SLOW_READ_MS, operations: ['GetSecretValue'] });
      let delayed = 0;
      await waitUntil(async () => ((delayed = (await rig.endpoint.faults.state()).injected.delayed) >= 2 * BUDGET ? true : undefined), 30_000, () => `slow reads under way; ${delayed} so far`);
      const partitionedAt = Date.now();
      relay.partition();
      const stalledOnSurvivor = async () => metricValue((await env.workerMetrics())[0] as string, 'herdless_sync_jobs_stalled_total');
      let stalled = 0;
      await waitUntil(async () => ((stalled = await stalledOnSurvivor()) > 0 ? true : undefined), TAKEOVER_BOUND_MS, () => `the survivor taking over the victim's stalled jobs; last seen ${stalled}`, 1_000);
      await rig.endpoint.faults.reset();
      await waitForReady(fleet, TAKEOVER_BOUND_MS, `with one worker partitioned (${readyAtPartition} at the partition)`);
      const allReadyAfterMs = Date.now() - partitionedAt;
      stalled = await stalledOnSurvivor();
      const [, victimBefore] = (await env.workerMetrics()).map((m) => metricValue(m, 'herdless_syncs_total'));
      relay.heal();
      const healedAt = Date.now();
      // Back: the victim takes jobs again (a second fleet, which it shares with the survivor).
      const after = await createFleet(rig, 'after', 40);
      let victimSyncs = victimBefore ?? 0;
      await waitUntil(
        async () => {
          victimSyncs = metricValue((await env.workerMetrics())[1] as string, 'herdless_syncs_total');
          return victimSyncs > (victimBefore ?? 0) && (await after.ready()) === after.size ? true : undefined;
        },
        60_000,
        () => `the healed worker syncing again (syncs ${victimSyncs}, ${victimBefore} before the heal) and the second fleet Ready`,
      );
      const writtenTwice = [...secrets.writes].filter(([, types]) => types.length !== 1 || types[0] !== 'ADDED').map(([name, types]) => `${name}: ${types.join(',')}`);
      const seen = await busiestSeconds(rig, new Set());
      const calls = await okReads(rig);
      rig.report({
        fleet: FLEET,
        readyAtPartition,
        stalledJobsMoved: stalled,
        allReadyAfterMs,
        victimSyncsAfterHeal: victimSyncs - (victimBefore ?? 0),
        backAfterHealMs: Date.now() - healedAt,
        calls,
        duplicateCalls: calls - FLEET - after.size,
        secretsWritten: secrets.writes.size,
        writtenTwice: writtenTwice.length,
        busiestSecond: seen.busiestSecond,
        throttled: seen.throttled,
      });
      expect(stalled).toBeGreaterThan(0);
      expect(secrets.writes.size).toBe(FLEET);
      // The jobs run again by the survivor found their Secrets as the victim wrote them.
      expect(writtenTwice).toEqual([]);
      expect(seen.throttled).toBe(0);
      expect(seen.busiestSecond).toBeLessThanOrEqual(BUDGET);
    } finally {
      secrets.stop();
    }
  });
});
