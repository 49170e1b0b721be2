// Sharded planning with three `herdless scheduler --plan-shards 4` processes on the real control
// plane and Redis: the shards are balanced over the replicas, each ExternalSecret is planned by
// its shard's holder in that shard's epoch, and after a SIGKILL only the dead replica's shards
// move (to the survivors, with a new epoch) while nothing is enqueued a second time. Each job
// carries its shard, and each shard's holder publishes that shard's term for the workers.
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { leaderTermKey, leaderTermSchema } from '@herdless/core';
import { planShardLeaseName, planShardOf } from '../src/index.js';
import { adminKubeConfig, exited, injected, planShardLeases, REPLICA_LEASE_NAME, schedulerReplicas, uniqueNamespace } from '../../../test/support/index.js';
import { createExternalSecret, readQueueFor, uniquePrefix, waitFor, waitForLeaseRenewals, withReplicaSuite } from './support.js';

const SHARDS = 4;
const LEASE = REPLICA_LEASE_NAME;
const REPLICAS = ['replica-a', 'replica-b', 'replica-c'] as const;

describe('plan shards over scheduler processes', () => {
  const kc = adminKubeConfig();
  const namespace = uniqueNamespace('sched-shards');
  const prefix = uniquePrefix('shards');
  const replicas = schedulerReplicas({ namespace, queuePrefix: prefix });
  const uids: string[] = [];
  const readQueue = () => readQueueFor(prefix, namespace, () => uids);
  const redis = new Redis(injected('redisUrl'));
  afterAll(() => redis.disconnect());
  /** The term each shard's holder published for the workers (core's supersededByTerm); -1 where none. */
  const shardTerms = async (): Promise<number[]> =>
    Promise.all(Array.from({ length: SHARDS }, async (_, i) => {
      const raw = await redis.get(leaderTermKey(prefix, i));
      return raw === null ? -1 : leaderTermSchema.parse(JSON.parse(raw)).epoch;
    }));

  /** Each shard Lease's holder and epoch (leaseTransitions); holder '' when released or absent. */
  const shardLeases = () => planShardLeases(kc, namespace, LEASE, SHARDS);
  /** The leases once every shard is held by one of `live`, each holding one or two (4 over 3, or 2 each over 2). */
  const balancedOver = (live: readonly string[]) => async () => {
    const leases = await shardLeases();
    const counts = live.map((r) => leases.filter((l) => l.holder === r).length);
    const low = Math.floor(SHARDS / live.length);
    return leases.every((l) => live.includes(l.holder)) && counts.every((c) => c === low || c === low + 1) ? leases : undefined;
  };
  /** A name whose ExternalSecret hashes onto one of `shards`. */
  const nameIn = (shards: readonly number[], tag: string): string => {
    for (let i = 0; ; i++) if (shards.includes(planShardOf(namespace, `${tag}-${i}`, SHARDS))) return `${tag}-${i}`;
  };

  withReplicaSuite(kc, namespace, replicas);

  it('kill -9 one of three replicas: only its shards move, to the survivors with a new epoch, and nothing is enqueued twice', async () => {
    for (const r of REPLICAS) replicas.start(r, { args: ['--plan-shards', String(SHARDS)] });
    const before = await waitFor('the 4 shards balanced over 3 replicas', balancedOver(REPLICAS), 60_000, 200);
    const created = await Promise.all(Array.from({ length: 40 }, (_, i) => createExternalSecret(kc, namespace, `es-${i}`)));
    uids.push(...created.map((c) => c.uid));
    await waitFor('40 jobs', async () => ((await readQueue()).jobs.length === 40 ? true : undefined), 30_000);
    // Each job carries its shard's epoch: planned by that shard's holder, not by another replica.
    for (const job of (await readQueue()).jobs) {
      expect(job.data.epoch).toBe(before[planShardOf(namespace, job.data.name as string, SHARDS)]?.epoch);
      expect(job.data.planShard).toBe(planShardOf(namespace, job.data.name as string, SHARDS));
    }
    expect(await shardTerms()).toEqual(before.map((l) => l.epoch));

    const victim = before[0]?.holder as string;
    const moved = before.flatMap((l, i) => (l.holder === victim ? [i] : []));
    const kept = before.flatMap((l, i) => (l.holder === victim ? [] : [i]));
    const survivors = REPLICAS.filter((r) => r !== victim);
    const killedAt = Date.now();
    replicas.child(victim).kill('SIGKILL');
    await exited(replicas.child(victim));
    const after = await waitFor('the dead replica\'s shards held by the survivors', balancedOver(survivors), 30_000, 100);
    process.stderr.write(`[scheduler] shards ${moved.join(', ')} taken over ${((Date.now() - killedAt) / 1000).toFixed(1)} s after SIGKILL of ${victim} (lease 6 s)\n`);
    for (const i of kept) expect(after[i]).toEqual(before[i]);
    for (const i of moved) expect(after[i]?.epoch).toBe((before[i]?.epoch as number) + 1);
    // The new holders publish their shards' new terms; the kept shards' terms stay.
    await waitFor('the moved shards\' new terms', async () => ((await shardTerms()).every((t, i) => t === after[i]?.epoch) ? true : undefined), 10_000, 100);

    // The new holder plans its shard in the new epoch; an unmoved shard keeps its epoch.
    const inMoved = await createExternalSecret(kc, namespace, nameIn(moved, 'moved'));
    const inKept = await createExternalSecret(kc, namespace, nameIn(kept, 'kept'));
    uids.push(inMoved.uid, inKept.uid);
    const jobOf = async (uid: string) => (await readQueue()).jobs.find((j) => j.data.uid === uid);
    const movedJob = await waitFor('a job for the ExternalSecret in a moved shard', () => jobOf(inMoved.uid), 20_000);
    const keptJob = await waitFor('a job for the ExternalSecret in a kept shard', () => jobOf(inKept.uid), 20_000);
    expect(after[planShardOf(namespace, movedJob.data.name as string, SHARDS)]?.epoch).toBe(movedJob.data.epoch);
    expect(after[planShardOf(namespace, keptJob.data.name as string, SHARDS)]?.epoch).toBe(keptJob.data.epoch);

    // Two renewals into the new holders' terms: what they would re-enqueue, they would have by now.
    for (const i of moved) await waitForLeaseRenewals(kc, namespace, planShardLeaseName(LEASE, i), after[i]?.holder as string, 2);
    const view = await readQueue();
    expect(view.jobs).toHaveLength(42);
    expect(view.addedEvents).toHaveLength(42);
    // The moved shards' jobs were adopted as they were (same epoch as planned before the kill).
    for (const { uid } of created) {
      const jobs = view.jobs.filter((j) => j.data.uid === uid);
      expect(jobs).toHaveLength(1);
      expect(jobs[0]?.data.epoch).toBe(before[planShardOf(namespace, jobs[0]?.data.name as string, SHARDS)]?.epoch);
    }

    // SIGTERM: the survivors release their shards and leave.
    for (const r of survivors) replicas.child(r).kill('SIGTERM');
    for (const r of survivors) expect(await exited(replicas.child(r))).toBe(0);
    expect((await shardLeases()).map((l) => l.holder)).toEqual(Array(SHARDS).fill(''));
  });
});
