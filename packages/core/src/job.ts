// The one contract scheduler and worker share: a sync job carries identity, never data.
// Job ids are deterministic so a deposed leader's late enqueue of the same decision is a no-op.
import { z } from 'zod';

/** Why a sync was planned; the reason decides the BullMQ priority lane. */
export const syncReasonSchema = z.enum(['new', 'changed', 'retry', 'overdue', 'refresh']);
export type SyncReason = z.infer<typeof syncReasonSchema>;

/** BullMQ priorities: lower runs first. New or changed specs have someone waiting. */
export const LANE_PRIORITY: Record<SyncReason, number> = {
  new: 1,
  changed: 1,
  retry: 2,
  overdue: 3,
  refresh: 4,
};

/** New or changed spec: someone is waiting for it (the planner's reserve, the limiter's urgent calls). */
export const isSpecLane = (reason: SyncReason): boolean => reason === 'new' || reason === 'changed';

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
    /** W3C trace context of the planning span. */
    traceparent: z.string().optional(),
  })
  .strict();
export type SyncJob = z.infer<typeof syncJobSchema>;

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
 * Deterministic job id: one per (object, spec generation, planned second). BullMQ ids may
 * not be integers nor contain ':'; a uid always has letters and '-'.
 */
export function syncJobId(job: Pick<SyncJob, 'uid' | 'generation' | 'plannedAt' | 'reason'>): string {
  const lane = isSpecLane(job.reason) ? 'spec' : job.reason;
  return `${job.uid}.g${job.generation}.${lane}.${Math.floor(job.plannedAt / 1000)}`;
}

/** The ExternalSecret a job id belongs to (its uid), for de-duplication on the queue. */
export function uidOfJobId(id: string): string {
  return id.split('.')[0] ?? id;
}
