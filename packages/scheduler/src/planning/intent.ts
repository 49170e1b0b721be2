// The intent decision: what one ExternalSecret needs next (a sync in which lane, from when, for
// which deadline, or a wait), from its state and what the planner remembers of it; and whether
// a pending job already serves that intent. Pure: where the sync goes in time is the placement's.
import { isSpecLane, retryClassOf, STALE_ROUTINE_MS } from '@herdless/core';
import type { Intent, ItemMemory, PlannedReason, PlannedSync } from './plan.js';
import type { PlanItem } from './plan-item.js';
import { retryDelayMs, type RetryOptions } from './retry-backoff.js';

const SECOND = 1000;
const floorSecond = (ms: number): number => Math.floor(ms / SECOND) * SECOND;

/** Has the worker attempted a sync at or after `t`? (lastAttemptTime, else refreshTime; second precision) */
function attemptedSince(item: PlanItem, t: number): boolean {
  const last = item.lastAttemptMs ?? item.lastSyncMs;
  return last !== undefined && last >= floorSecond(t);
}

export interface DecideOptions {
  retry?: RetryOptions;
  seed?: number;
  /** The policy's retry backoff; Herdless's capped full jitter by default. */
  retryDelay?: (item: PlanItem, attempt: number) => number;
}

/**
 * Decides what an item needs next, given what the planner remembers about it. Returns the
 * intent and the updated memory (the input is not modified).
 */
export function decideIntent(item: PlanItem, memory: ItemMemory, now: number, opts: DecideOptions = {}): { intent: Intent; memory: ItemMemory } {
  const mem: ItemMemory = { ...memory };
  const planned = mem.planned;
  const specSynced = item.syncedGeneration === item.generation;
  const everSynced = item.syncedGeneration !== undefined || item.lastSyncMs !== undefined;
  const syncNow = (reason: PlannedReason): Intent => ({ kind: 'sync', reason, earliest: now });

  // A spec sync of this generation is still waiting on the queue: nothing newer to decide.
  const healthy = specSynced && item.ready?.status !== 'False';
  if (planned && !healthy && isSpecLane(planned.reason) && planned.generation === item.generation && !attemptedSince(item, planned.plannedAt)) {
    return { intent: { kind: 'sync', reason: planned.reason, earliest: planned.plannedAt }, memory: mem };
  }

  if (item.ready?.status === 'False') {
    const observed = item.ready.observedGeneration;
    // Without observedGeneration (the worker does not write it) a new leader's planner has no
    // memory of the attempt: a failure of generation 1 can only be of generation 1, and is
    // retried with its backoff, not synced again at once as a new spec.
    const attemptedThisGeneration =
      observed !== undefined
        ? observed === item.generation
        : specSynced ||
          item.generation === 1 ||
          mem.attemptedGeneration === item.generation ||
          (planned !== undefined && planned.generation === item.generation && attemptedSince(item, planned.plannedAt));
    if (attemptedThisGeneration) {
      mem.attemptedGeneration = item.generation;
      // Core's table decides: a terminal reason waits for the spec or the store to change.
      if (retryClassOf(item.ready.reason) === 'terminal') {
        if (mem.terminal?.generation !== item.generation) {
          mem.terminal = { generation: item.generation, storeVersion: item.storeVersion };
          return { intent: { kind: 'wait', why: 'terminal' }, memory: mem };
        }
        if (mem.terminal.storeVersion !== item.storeVersion) {
          // Someone changed the store (or created it): one sync in the spec lane, someone is waiting.
          delete mem.terminal;
          return { intent: syncNow('changed'), memory: mem };
        }
        return { intent: { kind: 'wait', why: 'terminal' }, memory: mem };
      }
      delete mem.terminal;
      const attempt = item.failedAttempts ?? 1;
      const delay = opts.retryDelay ? opts.retryDelay(item, attempt) : retryDelayMs(item, attempt, opts.retry, opts.seed);
      // Never in the second of the attempt it follows: the status has whole seconds, and a retry
      // planned there would look served by the job that just failed and carry its id (still on
      // the queue while the worker writes the status: the add would be a no-op). A worker whose
      // clock is behind the scheduler's by a second or more can still cause this; the session's
      // sweep finds such a job gone and plans the retry again.
      const last = item.lastAttemptMs ?? now;
      const at = Math.max(last + delay, floorSecond(last) + SECOND);
      return { intent: { kind: 'sync', reason: 'retry', earliest: at }, memory: mem };
    }
    // The failure belongs to an older generation: the spec changed, sync it.
  }
  delete mem.terminal;

  if (!specSynced) {
    if (item.refresh.policy === 'created-once' && everSynced) return { intent: { kind: 'wait', why: 'created-once' }, memory: mem };
    return { intent: syncNow(everSynced ? 'changed' : 'new'), memory: mem };
  }
  delete mem.attemptedGeneration;
  if (item.refresh.policy !== 'periodic') return { intent: { kind: 'wait', why: 'no-periodic-refresh' }, memory: mem };
  const deadline = (item.lastSyncMs ?? now) + item.refresh.intervalMs;
  if (deadline <= now) return { intent: { kind: 'sync', reason: 'overdue', earliest: now, deadline }, memory: mem };
  // The job remembered here is the one that produced lastSync (a pending one would make the item
  // not synced, or overdue). It ran off-plan if its lane was not routine, or if it ran after its
  // deadline (a routine job left on the queue while the controller was down, adopted on restart).
  // A failover forgets it (a new term remembers only the jobs it adopts from the queue).
  const ranLate = planned?.deadline !== undefined && (item.lastSyncMs ?? 0) >= floorSecond(planned.deadline) + SECOND;
  // The status tells an off-plan sync the memory may not: Ready turned True at the last sync (an
  // ExternalSecret's first, or its first after failures). Without it, after a term restarted
  // mid-storm, the refresh adopted for a just-created ExternalSecret was placed anew (a plan
  // shard's budget moving) in its deadline's narrow window, and the storm's refreshes came due
  // at the storm's rate, above the routine share (simulation/planner.restarts.test.ts).
  const becameReady = item.readySinceMs !== undefined && item.lastSyncMs !== undefined && item.readySinceMs >= floorSecond(item.lastSyncMs);
  const respread = (planned !== undefined && (planned.reason !== 'refresh' || ranLate)) || becameReady;
  const keptMarginMs = planned?.deadline !== undefined ? Math.max(0, floorSecond(planned.deadline) - floorSecond(planned.plannedAt)) : undefined;
  return {
    intent: { kind: 'sync', reason: 'refresh', earliest: now, deadline, ...(respread ? { respread } : {}), ...(keptMarginMs !== undefined ? { keptMarginMs } : {}) },
    memory: mem,
  };
}

/** Does a pending job already serve this intent? Then it is kept (no second job, same id). */
export function servesIntent(job: PlannedSync, intent: Intent, item: PlanItem): boolean {
  if (intent.kind !== 'sync' || job.generation !== item.generation) return false;
  switch (intent.reason) {
    case 'new':
    case 'changed':
      return isSpecLane(job.reason);
    case 'retry':
      // Placed at or after the backoff (capacity may push it later); a newer failure moves the
      // backoff past the job that produced it (decideIntent keeps the next retry out of that
      // job's second), so that job no longer serves.
      return job.reason === 'retry' && job.plannedAt >= floorSecond(intent.earliest);
    case 'overdue':
    case 'refresh':
      // A routine job long past its slot (left on the queue while no leader ran) would run
      // outside the calendar, unseen by every placement, and in the routine lane, which the
      // workers' limiter holds to the routine share: it is replaced by a catch-up job, which may
      // take the whole budget the new specs leave. Long past is a minute, or one interval when
      // that is shorter: such a job has missed a whole refresh, which no failover makes it do
      // (the lab's recovery, 30 s interval and 60 s down: 272 of 300 routine jobs 37–60 s past
      // their slot were kept, and the catch-up ran at the routine share, 14 of 18.9 calls a
      // second). One that is only a little late (a failover) stays. The workers complete the
      // replaced ones older than a minute without running them (core's supersededByTerm, which
      // must only ever name jobs this rule replaces: planner.property.test.ts checks it).
      if (intent.reason === 'overdue' && job.reason === 'refresh' && job.plannedAt < intent.earliest - staleRoutineMsOf(item)) return false;
      return (job.reason === 'refresh' || job.reason === 'overdue') && job.deadline === intent.deadline;
  }
}

/** How long past its slot a routine job may be and still serve its item: STALE_ROUTINE_MS, or the item's interval when shorter. */
function staleRoutineMsOf(item: PlanItem): number {
  return item.refresh.policy === 'periodic' ? Math.min(STALE_ROUTINE_MS, item.refresh.intervalMs) : STALE_ROUTINE_MS;
}
