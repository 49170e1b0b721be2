// The sharded scenario: three scheduler replicas share the plan (--plan-shards 4); once the
// fleet is Ready and refreshing, the replica holding shard 0 is killed (SIGKILL) a quarter into
// the observed interval. The figures the scenario adds to the run's notes: which shards moved and
// how long their takeover took (until the Leases are held, and until the survivors plan again),
// how many ExternalSecrets those shards hold (the items the new holders re-planned; the others'
// plans were untouched), and duplicates (an ExternalSecret with more than one pending job on the
// queue). Peak, mean and refreshes on time are the window's.
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { syncQueueName } from '@herdless/core';
import { planShardLeaseName, planShardOf, readQueuedJobs } from '@herdless/scheduler';
import { scrapeLoopbackMetrics } from '@herdless/lab';
import { sumMetric } from '../api-server-metrics.js';

const PLANNED_JOBS = 'herdless_planner_planned_jobs';

export const SHARDED_REPLICAS = 3;
export const SHARDED_PLAN_SHARDS = 4;

export interface ShardHolders {
  holders: string[];
  epochs: number[];
  /** When each Lease expires unless renewed (its renewTime + leaseDurationSeconds), epoch ms; NaN when unknown. */
  expiresAt: number[];
}

async function readHolders(kc: KubeConfig, namespace: string, leaseName: string): Promise<ShardHolders> {
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const specs = await Promise.all(
    Array.from({ length: SHARDED_PLAN_SHARDS }, (_, i) =>
      coordination.readNamespacedLease({ name: planShardLeaseName(leaseName, i), namespace }).then(
        (l) => l.spec,
        () => undefined,
      ),
    ),
  );
  return {
    holders: specs.map((s) => s?.holderIdentity ?? ''),
    epochs: specs.map((s) => s?.leaseTransitions ?? -1),
    expiresAt: specs.map((s) => (s?.renewTime && s.leaseDurationSeconds ? new Date(s.renewTime).getTime() + s.leaseDurationSeconds * 1000 : Number.NaN)),
  };
}

/**
 * Kills the holder of shard 0 (through `kill`), then waits until every shard has a live holder
 * again. A killed holder releases nothing: its Leases can be taken once they expire (their last
 * renewal + the lease duration, read just before the kill), so each moved shard's takeover is
 * given from the kill and from its Lease's expiry.
 */
export async function killOneShardHolder(opts: {
  kc: KubeConfig;
  namespace: string;
  leaseName: string;
  labNamespace: string;
  names: readonly string[];
  kill: () => Promise<string>;
  timeoutMs: number;
}): Promise<string[]> {
  const before = await readHolders(opts.kc, opts.namespace, opts.leaseName);
  const victim = before.holders[0] ?? '';
  const killedAt = Date.now();
  const killed = await opts.kill();
  const moved = before.holders.flatMap((h, i) => (h === victim ? [i] : []));
  const takenAt = new Map<number, number>();
  let after = before;
  for (;;) {
    after = await readHolders(opts.kc, opts.namespace, opts.leaseName);
    for (const i of moved) if (!takenAt.has(i) && after.holders[i] !== victim && after.holders[i] !== '' && (after.epochs[i] as number) > (before.epochs[i] as number)) takenAt.set(i, Date.now());
    if (takenAt.size === moved.length) break;
    if (Date.now() - killedAt > opts.timeoutMs) return [`${killed}; shards ${moved.filter((i) => !takenAt.has(i)).join(', ')} not taken over within ${opts.timeoutMs / 1000} s`];
    await new Promise((r) => setTimeout(r, 100));
  }
  const takeoverS = (Date.now() - killedAt) / 1000;
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const perShard = moved.map((i) => {
    const taken = takenAt.get(i) as number;
    const expires = before.expiresAt[i] as number;
    return `shard ${i}: Lease expiring ${seconds(expires - killedAt)} s after the kill, taken ${seconds(taken - killedAt)} s after it (${seconds(taken - expires)} s after the expiry)`;
  });
  const kept = before.holders.flatMap((h, i) => (h !== victim && after.holders[i] !== h ? [i] : []));
  const replanned = opts.names.filter((n) => moved.includes(planShardOf(opts.labNamespace, n, SHARDED_PLAN_SHARDS))).length;
  return [
    `${killed}: it held plan shards ${moved.join(', ')} of ${SHARDED_PLAN_SHARDS}; taken over by ${moved.map((i) => after.holders[i]).join(', ')} ${takeoverS.toFixed(1)} s after the kill (${perShard.join('; ')}); ` +
      `shards of the survivors that moved: ${kept.length === 0 ? 'none' : kept.join(', ')}; ExternalSecrets re-planned by the new holders: ${replanned} of ${opts.names.length}`,
  ];
}

/** herdless_planner_planned_jobs summed over the schedulers behind `ports` (each sums its planners); a port that does not answer counts 0. */
export async function plannedJobsOf(ports: readonly number[]): Promise<number> {
  const texts = await Promise.all(ports.map((port) => scrapeLoopbackMetrics([port], 5_000, [PLANNED_JOBS]).then(([text]) => text ?? '', () => '')));
  return texts.reduce((sum, text) => sum + sumMetric(text, PLANNED_JOBS), 0);
}

/** Polls the survivors' planned jobs until they are back to what all replicas held just before the
 *  kill (`before`, less half a percent: with workers running, jobs done and not yet re-planned come
 *  and go); says how long after `killedAt` that was, or where it stood at `timeoutMs`. The Lease's
 *  takeover is not the end of it: a new holder lists its shards' objects and adopts their queued
 *  jobs before its planner holds them. */
export async function plannedAgainNote(opts: { schedulerPorts: readonly number[]; before: number; killedAt: number; timeoutMs: number }): Promise<string> {
  const target = Math.floor(opts.before * 0.995);
  for (;;) {
    const now = await plannedJobsOf(opts.schedulerPorts);
    const s = ((Date.now() - opts.killedAt) / 1000).toFixed(1);
    if (now >= target) return `planned again ${s} s after the kill: the survivors' planners hold ${now} jobs (all replicas held ${opts.before} before it)`;
    if (Date.now() - opts.killedAt > opts.timeoutMs) return `not planned again: the survivors' planners held ${now} jobs ${s} s after the kill (all replicas held ${opts.before} before it)`;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** ExternalSecrets with more than one pending job on the lab queue (a shard planned twice would show here). */
export async function duplicatesNote(redisUrl: string): Promise<string> {
  const queue = new Queue(syncQueueName(), { connection: { url: redisUrl }, prefix: 'herdless' });
  try {
    const perUid = new Map<string, number>();
    // Read a chunk at a time: one getJobs of the whole queue holds Redis, and the workers, for the read.
    for (const job of await readQueuedJobs(queue, ['delayed', 'waiting', 'prioritized'])) {
      const uid = (job.data as { uid?: string } | null)?.uid;
      if (uid) perUid.set(uid, (perUid.get(uid) ?? 0) + 1);
    }
    const dup = [...perUid.values()].filter((n) => n > 1).length;
    return `duplicates: ${dup} ExternalSecrets with more than one pending job (of ${perUid.size} with one)`;
  } finally {
    await queue.close();
  }
}
