// The plan's vocabulary: the jobs the planner keeps on the queue, the changes it asks of the
// queue, its intent for one item before placement, and the placement's interface. Types only
// (and the lane helpers from core): no decisions live here.
import type { SyncReason } from '@herdless/core';
import type { OperationCalls, PlanItem } from './plan-item.js';

/** A sync the planner considers pending on the queue (planned by it or adopted from the queue). */
export interface PlannedSync {
  id: string;
  uid: string;
  namespace: string;
  name: string;
  generation: number;
  reason: PlannedReason;
  /** When the sync should run (epoch ms). */
  plannedAt: number;
  /** The refresh deadline it serves, for refresh and overdue syncs. */
  deadline?: number;
  providerKey: string;
  shard: string;
  /** Provider calls it costs. */
  cost: number;
  /** The calls by operation, when known (jobs adopted from the queue learn them on observe). */
  calls?: OperationCalls[];
}

/** What the queue must do for one ExternalSecret: remove stale jobs, then add one. */
export interface PlanChange {
  uid: string;
  cancel: PlannedSync[];
  add?: PlannedSync;
}

export type WaitReason =
  /** Failed terminally for this generation: waits for a spec or store change. */
  | 'terminal'
  /** OnChange, CreatedOnce, refreshInterval "0" or unparsable: no periodic refresh. */
  | 'no-periodic-refresh'
  /** CreatedOnce and synced once. */
  | 'created-once';

/** The reasons the planner plans for: drift jobs go to the queue without it (the session's drift.ts). */
export type PlannedReason = Exclude<SyncReason, 'drift'>;

/** The planner's decision for one item before it is placed on the calendar. */
export type Intent =
  | {
      kind: 'sync';
      reason: PlannedReason;
      earliest: number;
      deadline?: number;
      /** The last sync ran when a backlog allowed (new, changed, retry, overdue), not in a slot of
       *  its own: its refresh may go anywhere before the deadline, so a burst does not stay in phase. */
      respread?: boolean;
      /** How long before its deadline the previous job was planned, in whole seconds (absent:
       *  no job known, as in a plan rebuilt from nothing). A routine refresh keeps that margin,
       *  up to the grace (CapacityPlacement). */
      keptMarginMs?: number;
    }
  | { kind: 'wait'; why: WaitReason };

/** In-memory record per item; lost on failover by design (the status is the durable record). */
export interface ItemMemory {
  planned?: PlannedSync;
  /** A sync of this generation has run (so a Ready=False is its result). */
  attemptedGeneration?: number;
  /** The store's resourceVersion when a terminal failure of this generation was first seen. */
  terminal?: { generation: number; storeVersion: string | undefined };
}

/**
 * Where on the time line a sync goes. The walking skeleton's placement is "as early as the
 * intent allows, refreshes at their deadline"; the capacity-aware placement replaces it.
 */
export interface Placement {
  place(intent: Extract<Intent, { kind: 'sync' }>, item: PlanItem, now: number): number;
  /** The calendar now holds this job (planned here or adopted from the queue). */
  reserve(job: PlannedSync): void;
  release(job: PlannedSync): void;
  /**
   * The first second (epoch s) a re-spread refresh may take behind the backlog (new specs,
   * catch-up) still to run on its budget keys, or undefined when there is none (see
   * Planner.rebalance).
   */
  backlogClearOf?(job: PlannedSync, now: number): number | undefined;
  /** The latest of those seconds over every budget key, or undefined when no backlog is pending. */
  backlogHorizon?(now: number): number | undefined;
  /**
   * Jobs whose place the last placement gave to another (fair share between namespaces: see
   * fair-share.ts); the planner places each anew. Emptied by the call.
   */
  takeDisplaced?(): PlannedSync[];
  /** The operator's weight of a namespace in the fair share of new specs (default 1). */
  weightOf?(namespace: string): number;
  /** Spec calls of the item's namespace planned after the current second on the item's budget keys (the most of them). */
  specCallsAhead?(item: PlanItem, now: number): number;
  /**
   * Of these spec jobs (one planning pass's), those now behind more than their weighted share of
   * another namespace's specs (placements after theirs put calls before them): placed anew, they
   * go earlier.
   */
  overtakable?(jobs: readonly PlannedSync[], now: number): PlannedSync[];
  /** A read group of the job's ExternalSecret that other planned jobs share (shared-keys.ts), if any. */
  sharedGroupOf?(uid: string): string | undefined;
}
