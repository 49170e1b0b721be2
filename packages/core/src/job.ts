// The one contract scheduler and worker share: a sync job carries identity, never data.
// Job ids are deterministic so a deposed leader's late enqueue of the same decision is a no-op.
import { z } from 'zod';

/**
 * Why a sync was planned; the reason decides the BullMQ priority lane. `drift`: the target Secret
 * was edited or deleted by someone else (the scheduler's watch of managed Secrets); the worker
 * compares the Secret with what it wrote before it fetches anything.
 */
export const syncReasonSchema = z.enum(['new', 'changed', 'retry', 'overdue', 'refresh', 'drift']);
export type SyncReason = z.infer<typeof syncReasonSchema>;

/** BullMQ priorities: lower runs first. New or changed specs have someone waiting. */
export const LANE_PRIORITY: Record<SyncReason, number> = {
  new: 1,
  changed: 1,
  drift: 1,
  retry: 2,
  overdue: 3,
  refresh: 4,
};

/**
 * New or changed spec, or a target to restore: someone is waiting for it (the planner's reserve,
 * the limiter's urgent calls). Drift jobs never pass through the planner; they share the lane.
 */
export const isSpecLane = (reason: SyncReason): boolean => reason === 'new' || reason === 'changed' || reason === 'drift';

export const syncJobSchema = z
  .object({
    namespace: z.string().min(1),
    name: z.string().min(1),
    uid: z.string().min(1),
    generation: z.number().int().nonnegative(),
    reason: syncReasonSchema,
    /** When the planner wanted this sync to run (epoch ms). */
    plannedAt: z.number().int(),
    /** The refresh deadline this sync serves (epoch ms); absent for syncs with no deadline. */
    deadline: z.number().int().optional(),
    providerKey: z.string(),
    /** The planner's epoch: the Lease's leaseTransitions when this was planned. */
    epoch: z.number().int().nonnegative(),
    /** Sharded planning: the plan shard whose owner planned this job (its epoch is that shard's Lease's); absent when one leader plans all. */
    planShard: z.number().int().nonnegative().optional(),
    /** W3C trace context of the planning span. */
    traceparent: z.string().optional(),
    /** Drift jobs: the resourceVersion of the target Secret's change that triggered it (names the job). */
    targetResourceVersion: z.string().regex(/^[0-9A-Za-z-]{1,64}$/).optional(),
  })
  .strict();
export type SyncJob = z.infer<typeof syncJobSchema>;

/**
 * How a queued job is kept: completed ones are removed at once (the next sync always has a new
 * id), failed ones kept (the last 1,000 per queue, at most a day) for `bullmq` tooling; payloads
 * hold identities only, and the planner, not BullMQ's attempts, owns retries.
 */
export const JOB_RETENTION = {
  removeOnComplete: true,
  removeOnFail: { count: 1000, age: 24 * 3600 },
} as const;

/** The BullMQ job name of an ordinary sync job and of a group job. */
export const SYNC_JOB_NAME = 'sync';
export const SYNC_GROUP_JOB_NAME = 'sync-group';

/** A group job's members at most: a larger group at one instant goes as several group jobs. */
export const MAX_GROUP_MEMBERS = 50;

/**
 * A group job: the refreshes of ExternalSecrets that read one remote key through one store,
 * planned for one instant, sent as one job so that one worker process runs them together and
 * its coalescer makes one call for them. Each member keeps its own sync job and the id it would
 * have had alone (a new leader adopts the members by those ids; a worker that must defer a member
 * puts it back on the queue as an ordinary job under that id). Identities only, as a sync job.
 */
export const syncGroupJobSchema = z
  .object({
    members: z
      .array(z.object({ id: z.string().min(1), job: syncJobSchema }).strict())
      .min(1)
      .max(MAX_GROUP_MEMBERS),
  })
  .strict();
export type SyncGroupJob = z.infer<typeof syncGroupJobSchema>;

/**
 * A group job's id: the group's opaque hash (never the remote key's name), the instant (epoch ms)
 * and the part (a group larger than MAX_GROUP_MEMBERS at one instant). Deterministic, so a deposed
 * leader's late send of the same group is a no-op.
 */
export function syncGroupJobId(groupHash: string, plannedAt: number, part: number): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(groupHash)) throw new Error(`expected a group hash of letters, digits, '-' and '_', found "${groupHash}"`);
  return `group.${groupHash}.${Math.round(plannedAt)}.${part}`;
}

/**
 * How long past its slot a routine job may be and still serve its ExternalSecret (longer than a
 * failover). A leader that finds an older one on the queue, for a refresh whose deadline has
 * passed, replaces it with a catch-up job placed at the catch-up share (the planner's servesIntent,
 * which replaces it sooner, one interval past its slot, when the item's interval is shorter:
 * scheduler planning/intent.ts). The workers skip a routine job of an earlier term only past this.
 */
export const STALE_ROUTINE_MS = 60_000;

/**
 * A leader's term as the scheduler publishes it in Redis for the workers: its epoch (the Lease's
 * leaseTransitions) and when it began (epoch ms, the scheduler's clock, like plannedAt).
 */
export const leaderTermSchema = z.object({ epoch: z.number().int().nonnegative(), since: z.number().int() }).strict();
export type LeaderTerm = z.infer<typeof leaderTermSchema>;

/**
 * The Redis key of the current leader's term (beside the queues, under the same prefix); with
 * sharded planning each plan shard's owner publishes its own, since each shard's epochs are its
 * Lease's.
 */
export const leaderTermKey = (prefix: string, planShard?: number): string => (planShard === undefined ? `${prefix}:leader-term` : `${prefix}:leader-term:plan-shard-${planShard}`);

/**
 * Will the leader of `term` replace this job rather than let it run? A routine refresh planned in
 * an earlier term, whose deadline had passed and whose slot was more than STALE_ROUTINE_MS gone
 * when the term began: every job like that is left from a time no leader ran (a restart after an
 * outage), and the new leader plans a catch-up job for its ExternalSecret instead (or cancels it
 * if the ExternalSecret moved on). A worker that meets one completes it without a call: running
 * it would spend the routine share on work the catch-up already covers, and deferring it at the
 * limiter (thousands at once after a long outage) costs the workers and Redis the restart's
 * first seconds. Judged from the term's start, not the worker's clock, so that a job the leader
 * kept is never dropped.
 */
export function supersededByTerm(job: Pick<SyncJob, 'reason' | 'epoch' | 'plannedAt' | 'deadline'>, term: LeaderTerm | undefined): boolean {
  if (!term || job.reason !== 'refresh' || job.deadline === undefined) return false;
  return job.epoch < term.epoch && job.deadline < term.since && job.plannedAt < term.since - STALE_ROUTINE_MS;
}

export const DEFAULT_SHARD = 'default';
export const DEFAULT_QUEUE_PREFIX = 'herdless';

/**
 * Queue name for a shard. The braces are a Redis Cluster hash tag, so every key of one
 * queue lands in one slot; BullMQ forbids ':' in queue names.
 */
export function syncQueueName(shard: string = DEFAULT_SHARD): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(shard)) {
    throw new Error(`expected a shard name of lower-case letters, digits and '-', found "${shard}"`);
  }
  return `sync-{${shard}}`;
}

/**
 * Deterministic job id: one per (object, spec generation, planned second); a drift job's is one
 * per change of the target Secret (its resourceVersion), which every scheduler replica sees
 * alike. BullMQ ids may not be integers nor contain ':'; a uid always has letters and '-'.
 */
export function syncJobId(job: Pick<SyncJob, 'uid' | 'generation' | 'plannedAt' | 'reason' | 'targetResourceVersion'>): string {
  if (job.reason === 'drift') return `${job.uid}.g${job.generation}.drift.${job.targetResourceVersion ?? Math.floor(job.plannedAt / 1000)}`;
  const lane = isSpecLane(job.reason) ? 'spec' : job.reason;
  return `${job.uid}.g${job.generation}.${lane}.${Math.floor(job.plannedAt / 1000)}`;
}

/** The ExternalSecret a job id belongs to (its uid), for de-duplication on the queue. */
export function uidOfJobId(id: string): string {
  return id.split('.')[0] ?? id;
}
