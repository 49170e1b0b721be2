// What is planned: for each ExternalSecret, when its next sync runs and in which lane.
// Pure: state and time in, decisions out. It knows nothing of Kubernetes or Redis; the
// leader session feeds it PlanItems and turns its PlanChanges into queue operations.
import { isSpecLane, LANE_PRIORITY, retryClassOf, STALE_ROUTINE_MS, syncJobId, type SyncReason } from '@herdless/core';
import { Heap } from 'heap-js';
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

export interface RetryOptions {
  /** First backoff (full jitter up to this). */
  baseMs: number;
  /** Ceiling of the backoff; it is also at most half the refresh interval. */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { baseMs: 5_000, maxMs: 3_600_000 };

/** In-memory record per item; lost on failover by design (the status is the durable record). */
export interface ItemMemory {
  planned?: PlannedSync;
  /** A sync of this generation has run (so a Ready=False is its result). */
  attemptedGeneration?: number;
  /** The store's resourceVersion when a terminal failure of this generation was first seen. */
  terminal?: { generation: number; storeVersion: string | undefined };
}

const SECOND = 1000;
const floorSecond = (ms: number): number => Math.floor(ms / SECOND) * SECOND;
export { isSpecLane };

/** Has the worker attempted a sync at or after `t`? (lastAttemptTime, else refreshTime; second precision) */
function attemptedSince(item: PlanItem, t: number): boolean {
  const last = item.lastAttemptMs ?? item.lastSyncMs;
  return last !== undefined && last >= floorSecond(t);
}

/** Deterministic full jitter in [0, 1): the same item and attempt give the same delay on every leader. */
export function jitterFraction(uid: string, attempt: number, seed = 0): number {
  // FNV-1a over the uid, the attempt and the seed, then one round of xorshift mixing.
  let h = 0x811c9dc5 ^ seed;
  const text = `${uid}#${attempt}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 0x1_0000_0000;
}

/**
 * Exponential backoff with full jitter for the n-th failure (n ≥ 1). The ceiling is at most half
 * the refresh interval, so once the ramp is over a failing item costs about four calls per
 * interval (mean gap = ceiling / 2), and at most one per retryMax/2 for long intervals.
 */
export function retryDelayMs(item: Pick<PlanItem, 'uid' | 'refresh'>, attempt: number, retry: RetryOptions = DEFAULT_RETRY, seed = 0): number {
  const n = Math.max(1, attempt);
  const ceiling = item.refresh.policy === 'periodic' ? Math.min(retry.maxMs, Math.max(retry.baseMs, item.refresh.intervalMs / 2)) : retry.maxMs;
  const exp = Math.min(ceiling, retry.baseMs * 2 ** Math.min(n - 1, 40));
  return Math.round(jitterFraction(item.uid, n, seed) * exp);
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
    const attemptedThisGeneration =
      observed !== undefined
        ? observed === item.generation
        : specSynced ||
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
      const at = (item.lastAttemptMs ?? now) + delay;
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
  // A failover forgets it, and the refresh keeps its narrow window.
  const ranLate = planned?.deadline !== undefined && (item.lastSyncMs ?? 0) >= floorSecond(planned.deadline) + SECOND;
  const respread = planned !== undefined && (planned.reason !== 'refresh' || ranLate);
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
      // backoff past the job that produced it, so that job no longer serves.
      return job.reason === 'retry' && job.plannedAt >= floorSecond(intent.earliest);
    case 'overdue':
    case 'refresh':
      // A routine job long past its slot (left on the queue while no leader ran) would run
      // outside the calendar, unseen by every placement: it is replaced by a catch-up job
      // placed at the catch-up share. One that is only a little late (a failover) stays. The
      // workers complete the replaced ones without running them (core's supersededByTerm, which
      // must only ever name jobs this rule replaces: planner.property.test.ts checks it).
      if (intent.reason === 'overdue' && job.reason === 'refresh' && job.plannedAt < intent.earliest - STALE_ROUTINE_MS) return false;
      return (job.reason === 'refresh' || job.reason === 'overdue') && job.deadline === intent.deadline;
  }
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
}

/** A re-spread refresh placed while a backlog was pending, by its planned time (see rebalance). */
interface BehindBacklog {
  uid: string;
  id: string;
  plannedAt: number;
}

export const deadlinePlacement: Placement = {
  place(intent) {
    if (intent.reason === 'refresh' && intent.deadline !== undefined) return intent.deadline;
    return Math.round(intent.earliest);
  },
  reserve() {},
  release() {},
};

export interface PlannerOptions extends DecideOptions {
  placement?: Placement;
}

interface Entry {
  item?: PlanItem;
  memory: ItemMemory;
  intent?: Intent;
}

/** The plan for every ExternalSecret one leader serves. */
export class Planner {
  private readonly entries = new Map<string, Entry>();
  readonly placement: Placement;
  /** Re-spread refreshes placed while a backlog was still to run, earliest first (see rebalance). */
  private readonly behindBacklog = new Heap<BehindBacklog>((a, b) => a.plannedAt - b.plannedAt);
  private lastRebalanceMs = -Infinity;
  /** Re-spread refreshes moved behind a backlog (rebalance), for the metric. */
  movedBehindBacklog = 0;

  constructor(private readonly opts: PlannerOptions = {}) {
    this.placement = opts.placement ?? deadlinePlacement;
  }

  /**
   * Takes a job found on the queue (after a failover) as planned, so it is not planned twice.
   * A second job for the same ExternalSecret is returned for removal, keeping the one in the
   * spec lane or, between equals, the earlier one.
   */
  adopt(job: PlannedSync): PlanChange | undefined {
    const entry = this.entry(job.uid);
    const current = entry.memory.planned;
    if (current?.id === job.id) return undefined;
    if (current) {
      const keepNew = (isSpecLane(job.reason) && !isSpecLane(current.reason)) || (isSpecLane(job.reason) === isSpecLane(current.reason) && job.plannedAt < current.plannedAt);
      if (!keepNew) return { uid: job.uid, cancel: [job] };
      this.placement.release(current);
      entry.memory.planned = job;
      this.placement.reserve(job);
      return { uid: job.uid, cancel: [current] };
    }
    entry.memory.planned = job;
    this.placement.reserve(job);
    return undefined;
  }

  /** Re-decides one item from its latest state; returns what the queue must change, if anything. */
  observe(item: PlanItem, now: number): PlanChange | undefined {
    return this.place(this.decide(item, now), now);
  }

  /**
   * Re-decides many items at once (a new leader's first pass): specs first, then retries, then
   * overdue items earliest deadline first, then refreshes by deadline — so recovery releases the
   * backlog in deadline order and new specs are not queued behind it.
   */
  observeAll(items: Iterable<PlanItem>, now: number): PlanChange[] {
    const entries = [...items].map((item) => this.decide(item, now));
    entries.sort((a, b) => rank(a) - rank(b) || deadlineOf(a) - deadlineOf(b));
    const changes: PlanChange[] = [];
    for (const e of entries) {
      const c = this.place(e, now);
      if (c) changes.push(c);
    }
    return changes;
  }

  private decide(item: PlanItem, now: number): Entry {
    const entry = this.entry(item.uid);
    entry.item = item;
    const { intent, memory } = decideIntent(item, entry.memory, now, this.opts);
    entry.memory = memory;
    entry.intent = intent;
    return entry;
  }

  private place(entry: Entry, now: number): PlanChange | undefined {
    const item = entry.item as PlanItem;
    const intent = entry.intent as Intent;
    const current = entry.memory.planned;
    if (intent.kind === 'wait') {
      if (!current) return undefined;
      this.placement.release(current);
      delete entry.memory.planned;
      return { uid: item.uid, cancel: [current] };
    }
    if (current && servesIntent(current, intent, item)) {
      if (!current.calls) {
        // Adopted from the queue: now that the item is known, count its real calls.
        this.placement.release(current);
        current.calls = item.calls;
        current.cost = item.cost;
        current.providerKey = item.providerKey;
        this.placement.reserve(current);
      }
      return undefined;
    }
    return this.placeAnew(entry, now);
  }

  /** Places the entry's intent (its current job, if any, is cancelled). */
  private placeAnew(entry: Entry, now: number): PlanChange {
    const item = entry.item as PlanItem;
    const intent = entry.intent as Extract<Intent, { kind: 'sync' }>;
    const current = entry.memory.planned;
    if (current) this.placement.release(current);
    const plannedAt = this.placement.place(intent, item, now);
    const job: PlannedSync = {
      id: '',
      uid: item.uid,
      namespace: item.namespace,
      name: item.name,
      generation: item.generation,
      reason: intent.reason,
      plannedAt,
      providerKey: item.providerKey,
      shard: item.shard,
      cost: item.cost,
      calls: item.calls,
    };
    if (intent.deadline !== undefined) job.deadline = intent.deadline;
    job.id = syncJobId(job);
    this.placement.reserve(job);
    entry.memory.planned = job;
    if (intent.respread && this.placement.backlogClearOf?.(job, now) !== undefined) this.behindBacklog.push({ uid: item.uid, id: job.id, plannedAt: job.plannedAt });
    return { uid: item.uid, cancel: current && current.id !== job.id ? [current] : [], add: job };
  }

  /**
   * Moves re-spread refreshes out of a backlog that outlasted them. A refresh re-spread while new
   * specs (or a catch-up) were still to run is placed after what was pending then; specs created
   * later, and workers running below the limiter's rate, make the backlog end later, and the queue
   * runs it first: the refreshes planned inside it would all run at its end, together, and that
   * bunch would come back every interval. Such a refresh moves behind the backlog as it stands now,
   * if there is room before its deadline. Runs at most once a second; returns the queue's changes.
   */
  rebalance(now: number): PlanChange[] {
    const changes: PlanChange[] = [];
    const { backlogClearOf, backlogHorizon } = this.placement;
    if (!backlogClearOf || !backlogHorizon || this.behindBacklog.length === 0 || now - this.lastRebalanceMs < SECOND) return changes;
    this.lastRebalanceMs = now;
    const horizon = backlogHorizon.call(this.placement, now);
    if (horizon === undefined) {
      // No backlog left: nothing can outlast a refresh until the next one, placed anew.
      this.behindBacklog.clear();
      return changes;
    }
    // Only refreshes planned before the latest backlog's end can be inside one.
    const stays: BehindBacklog[] = [];
    for (let e = this.behindBacklog.peek(); e !== undefined && e.plannedAt < horizon * SECOND; e = this.behindBacklog.peek()) {
      this.behindBacklog.pop();
      const entry = this.entries.get(e.uid);
      const job = entry?.memory.planned;
      const intent = entry?.intent;
      // Replaced, gone, or due now (it may be running): no longer followed.
      if (!entry || job?.id !== e.id || job.deadline === undefined || intent?.kind !== 'sync' || !intent.respread || job.plannedAt <= now + SECOND) continue;
      const clear = backlogClearOf.call(this.placement, job, now);
      if (clear === undefined) continue;
      // Clear of its own backlog already, or no room after it before the deadline (overload): it stays.
      if (Math.floor(job.plannedAt / SECOND) >= clear || Math.floor(job.deadline / SECOND) <= clear) {
        stays.push(e);
        continue;
      }
      // Placed anew at or after `clear`: followed again under its new id.
      changes.push(this.placeAnew(entry, now));
      this.movedBehindBacklog++;
    }
    for (const e of stays) this.behindBacklog.push(e);
    return changes;
  }

  /** The ExternalSecret is gone: its pending job goes too. */
  forget(uid: string): PlanChange | undefined {
    const entry = this.entries.get(uid);
    this.entries.delete(uid);
    const planned = entry?.memory.planned;
    if (!planned) return undefined;
    this.placement.release(planned);
    return { uid, cancel: [planned] };
  }

  /** A planned job left the queue without the status changing (a lost job): plan again on next observe. */
  jobGone(uid: string, id: string): void {
    const entry = this.entries.get(uid);
    const planned = entry?.memory.planned;
    if (!entry || planned?.id !== id) return;
    if (isSpecLane(planned.reason)) entry.memory.attemptedGeneration = planned.generation;
    this.placement.release(planned);
    delete entry.memory.planned;
  }

  planned(uid: string): PlannedSync | undefined {
    return this.entries.get(uid)?.memory.planned;
  }

  intentOf(uid: string): Intent | undefined {
    return this.entries.get(uid)?.intent;
  }

  itemOf(uid: string): PlanItem | undefined {
    return this.entries.get(uid)?.item;
  }

  *plannedJobs(): Iterable<PlannedSync> {
    for (const e of this.entries.values()) if (e.memory.planned) yield e.memory.planned;
  }

  get size(): number {
    return this.entries.size;
  }

  private entry(uid: string): Entry {
    let e = this.entries.get(uid);
    if (!e) {
      e = { memory: {} };
      this.entries.set(uid, e);
    }
    return e;
  }
}

/** Order of placement in a batch: lower first. */
function rank(e: Entry): number {
  const i = e.intent;
  if (!i || i.kind === 'wait') return 5;
  return { new: 0, changed: 0, retry: 1, overdue: 2, refresh: 3 }[i.reason];
}

function deadlineOf(e: Entry): number {
  const i = e.intent;
  if (!i || i.kind === 'wait') return 0;
  return i.deadline ?? i.earliest;
}

export { LANE_PRIORITY };
