// The leader killed (SIGKILL: no release of the Lease, no goodbye) in the middle of a burst of
// 2,000 new ExternalSecrets: two scheduler replicas on one Lease, two workers, all separate
// processes with the chart's RBAC, at a budget our AWS endpoint enforces. The standby must take
// the Lease within client-go's timings, adopt what the dead leader had queued instead of
// planning it again (every ExternalSecret enqueued exactly once: the queue's own events, followed
// as they come), and the fleet must finish: every ExternalSecret Ready, every remote value read
// once, no second over the budget. The endpoint runs in a process of its own: in this one, a
// stall of the event loop (2,000 objects listed, thousands of creates in flight) held its replies
// and then decided them together, up to stall × budget of them in one later second.
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { syncQueueName } from '@herdless/core';
import { waitUntil } from '../support/index.js';
import { useChaosRig } from '../support/chaos-rig.js';
import { busiestSeconds, createFleet, okReads, waitForReady } from '../support/chaos-fleet.js';

/** High enough that 2,000 syncs take about 20 s at the endpoint (a minute at most on a loaded CI machine). */
const BUDGET = 100;
const FLEET = 2_000;
// Short client-go timings, as the scheduler tests use: takeover within lease + a retry or two.
const LEASE_SECONDS = 6;
const RETRY_SECONDS = 1;
const TAKEOVER_BOUND_MS = (LEASE_SECONDS + 2 * RETRY_SECONDS + 2) * 1000;

const rig = useChaosRig('leader-kill', {
  budgetRps: BUDGET,
  schedulers: 2,
  schedulerArgs: ['--lease-duration-seconds', String(LEASE_SECONDS), '--renew-deadline-seconds', '4', '--retry-period-seconds', String(RETRY_SECONDS)],
});

/**
 * Follows the sync queue's events stream from its start and collects the distinct spec-lane
 * job ids added per ExternalSecret (a job id begins with the object's uid; a job re-delayed by
 * the limiter keeps its id, a second enqueue of the new spec gets another). Followed as it grows, because BullMQ
 * trims the stream (about 10,000 entries) and 2,000 jobs write more events than that.
 */
function followAdded(redis: Redis, key: string): { addedByUid: Map<string, Set<string>>; stop(): Promise<void> } {
  const addedByUid = new Map<string, Set<string>>();
  let running = true;
  let last = '0';
  const loop = (async () => {
    // Ends with the connection too (the rig stopped Redis after a failure).
    while (running && redis.status === 'ready') {
      const reply = (await redis.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', key, last).catch(() => null)) as Array<[string, Array<[string, string[]]>]> | null;
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          last = id;
          const f: Record<string, string> = {};
          for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
          // Spec-lane jobs only: once synced, each object also gets its next (routine) refresh.
          if (f.event === 'added' && f.jobId?.includes('.spec.')) {
            const uid = f.jobId.split('.')[0] as string;
            addedByUid.set(uid, (addedByUid.get(uid) ?? new Set()).add(f.jobId));
          }
        }
      }
    }
  })();
  return {
    addedByUid,
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe('the leader killed mid-burst', () => {
  it('the standby takes over within the lease, nothing is enqueued twice or lost, and no second is over the budget', async () => {
    const { env } = rig;
    const lease = { name: `hl${env.run}-scheduler`, namespace: env.systemNamespace };
    const coordination = env.admin.kc.makeApiClient(CoordinationV1Api);
    const holder = async () => (await coordination.readNamespacedLease(lease)).spec?.holderIdentity ?? '';
    const first = await waitUntil(async () => (await holder().catch(() => '')) || undefined, 60_000, () => 'a scheduler holding the Lease');

    const events = new Redis(rig.redis.nodes[0]!.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    rig.onStop(() => events.disconnect());
    await events.ping();
    const follower = followAdded(events, `${env.queuePrefix}:${syncQueueName('default')}:events`);
    const fleet = await createFleet(rig, 'burst', FLEET);
    // Progress from the endpoint's log (one request a second): listing 2,000 objects often would
    // load the machine the processes share.
    let read = 0;
    const reads = async () => (read = await okReads(rig));
    await waitUntil(async () => ((await reads()) >= FLEET / 4 ? true : undefined), 180_000, () => `a quarter of the burst read; last seen ${read}/${FLEET}`, 1_000);
    const readyAtKill = read;
    // The leader is the replica whose pid the Lease holder names (identity: host name and pid).
    const leader = env.processes.find((p) => p.name.startsWith('scheduler-') && first.endsWith(`-${p.child.pid}`));
    if (!leader) throw new Error(`expected the Lease holder ${first} among ${env.processes.map((p) => `${p.name} (${p.child.pid})`).join(', ')}`);
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    const second = await waitUntil(async () => {
      const now = await holder().catch(() => first);
      return now !== first && now !== '' ? now : undefined;
    }, TAKEOVER_BOUND_MS + 10_000, () => `another replica holding the Lease after the kill of ${first}`);
    const takeoverMs = Date.now() - killedAt;
    await waitUntil(async () => ((await reads()) >= FLEET ? true : undefined), 180_000, () => `every remote value read after the takeover; last seen ${read}/${FLEET} (${readyAtKill} at the kill)`, 1_000);
    const ready = await waitForReady(fleet, 60_000, 'after the takeover');
    await follower.stop();

    const uids = new Set((await env.admin.custom.listNamespacedCustomObject({ group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets', namespace: fleet.namespace }) as { items: Array<{ metadata: { uid: string } }> }).items.map((o) => o.metadata.uid));
    const enqueuedTwice = [...uids].filter((uid) => (follower.addedByUid.get(uid)?.size ?? 0) > 1).map((uid) => [...(follower.addedByUid.get(uid) as Set<string>)].join(' '));
    const neverEnqueued = [...uids].filter((uid) => !follower.addedByUid.has(uid));
    const seen = await busiestSeconds(rig, new Set());
    const calls = await okReads(rig);
    rig.report({
      fleet: FLEET,
      budget: BUDGET,
      readAtKill: readyAtKill,
      takeoverMs,
      newLeader: second === first ? 'same' : 'standby',
      allReadyAfterKillMs: Date.now() - killedAt,
      calls,
      duplicateCalls: calls - FLEET,
      enqueuedTwice: enqueuedTwice.length,
      neverEnqueued: neverEnqueued.length,
      lost: FLEET - ready,
      busiestSecond: seen.busiestSecond,
      throttled: seen.throttled,
    });
    expect(takeoverMs).toBeLessThan(TAKEOVER_BOUND_MS);
    expect(uids.size).toBe(FLEET);
    expect(enqueuedTwice).toEqual([]);
    expect(neverEnqueued).toEqual([]);
    expect(calls).toBe(FLEET);
    expect(seen.throttled).toBe(0);
    expect(seen.busiestSecond).toBeLessThanOrEqual(BUDGET);
  }, 420_000);
});
