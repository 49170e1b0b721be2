// Turns the planner's PlanChanges into queue operations, in order per ExternalSecret, with
// bounded concurrency and retries on Redis errors. It stops taking work the moment the
// leader's signal aborts: a deposed leader enqueues nothing new (what is in flight is
// harmless, the ids being deterministic).
import { isSpecLane, type Logger, type SyncJob } from '@herdless/core';
import { Heap } from 'heap-js';
import type { SyncEnqueuer } from './enqueuer.js';
import type { PlanChange, PlannedSync } from '../planning/plan.js';

export interface DispatcherOptions {
  enqueuer: Pick<SyncEnqueuer, 'enqueue' | 'cancel' | 'stateOf'>;
  epoch: number;
  /** Sharded planning: the plan shard whose jobs these are (carried by each job, for the workers' term check). */
  planShard?: number;
  signal: AbortSignal;
  logger: Logger;
  concurrency?: number;
  now?: () => number;
}

/** Queue states of a job a worker took: running now, or done. */
const TAKEN_STATES = new Set(['active', 'completed']);

/** The same spec sync at another time: same object, generation and spec-lane reason. */
function isSameSync(job: PlannedSync, add: PlannedSync): boolean {
  return job.uid === add.uid && job.generation === add.generation && job.reason === add.reason && isSpecLane(add.reason);
}

export function syncJobOf(job: PlannedSync, epoch: number, planShard?: number): SyncJob {
  const data: SyncJob = {
    namespace: job.namespace,
    name: job.name,
    uid: job.uid,
    generation: job.generation,
    reason: job.reason,
    plannedAt: Math.round(job.plannedAt),
    providerKey: job.providerKey,
    epoch,
  };
  if (job.deadline !== undefined) data.deadline = Math.round(job.deadline);
  if (planShard !== undefined) data.planShard = planShard;
  return data;
}

/** A change that adds a new or changed spec's sync: it goes to Redis before the others. */
const isUrgent = (change: PlanChange): boolean => change.add !== undefined && isSpecLane(change.add.reason);

export class Dispatcher {
  /** Changes not sent yet, in order; specs first (a new leader's thousands of catch-up jobs, or a
   *  recovery's refreshes, must not hold a new ExternalSecret's job back for seconds). */
  private readonly urgent = new Map<string, PlanChange>();
  /** The urgent changes by planned time, the earliest first: the plan already shares the slots
   *  fairly between namespaces, and sent in arrival order a light tenant's job planned for the
   *  next second waited behind the enqueues of a heavy tenant's thousands planned over the next
   *  minutes. Entries whose change was replaced or taken are skipped when they come up. */
  private readonly urgentByTime = new Heap<{ uid: string; change: PlanChange }>((a, b) => (a.change.add?.plannedAt ?? 0) - (b.change.add?.plannedAt ?? 0));
  private readonly waiting = new Map<string, PlanChange>();
  private readonly inFlight = new Set<string>();
  private readonly concurrency: number;
  private readonly now: () => number;
  private idleWaiters: Array<() => void> = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Jobs added and cancelled, for logs and tests. */
  readonly counts = { added: 0, cancelled: 0, errors: 0, alreadyTaken: 0 };

  constructor(private readonly opts: DispatcherOptions) {
    this.concurrency = opts.concurrency ?? 32;
    this.now = opts.now ?? Date.now;
    opts.signal.addEventListener('abort', () => {
      this.urgent.clear();
      this.urgentByTime.clear();
      this.waiting.clear();
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.notifyIdle();
    });
  }

  submit(change: PlanChange | undefined): void {
    if (!change || this.opts.signal.aborted) return;
    if (change.cancel.length === 0 && !change.add) return;
    const before = this.takeWaiting(change.uid);
    this.putWaiting(before ? merge(before, change, true) : change);
    this.pump();
  }

  private takeWaiting(uid: string): PlanChange | undefined {
    const c = this.urgent.get(uid) ?? this.waiting.get(uid);
    this.urgent.delete(uid);
    this.waiting.delete(uid);
    return c;
  }

  private putWaiting(change: PlanChange): void {
    if (!isUrgent(change)) {
      this.waiting.set(change.uid, change);
      return;
    }
    this.urgent.set(change.uid, change);
    this.urgentByTime.push({ uid: change.uid, change });
  }

  /** True while a change for this ExternalSecret has not reached Redis yet. */
  has(uid: string): boolean {
    return this.urgent.has(uid) || this.waiting.has(uid) || this.inFlight.has(uid);
  }

  /** Resolves when nothing is waiting or in flight (or the signal aborted and in-flight work ended). */
  idle(): Promise<void> {
    if (this.inFlight.size === 0 && (this.urgent.size + this.waiting.size === 0 || this.opts.signal.aborted)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get backlog(): number {
    return this.urgent.size + this.waiting.size + this.inFlight.size;
  }

  private pump(): void {
    if (this.opts.signal.aborted || this.retryTimer) return;
    // Urgent changes, the earliest planned first; one whose ExternalSecret has a change in
    // flight waits for it (pushed back after this pass).
    const busy: Array<{ uid: string; change: PlanChange }> = [];
    while (this.inFlight.size < this.concurrency) {
      const next = this.urgentByTime.pop();
      if (!next) break;
      if (this.urgent.get(next.uid) !== next.change) continue;
      if (this.inFlight.has(next.uid)) busy.push(next);
      else this.send(this.urgent, next.uid, next.change);
    }
    for (const b of busy) this.urgentByTime.push(b);
    for (const [uid, change] of this.waiting) {
      if (this.inFlight.size >= this.concurrency) return;
      if (this.inFlight.has(uid)) continue;
      this.send(this.waiting, uid, change);
    }
  }

  private send(queue: Map<string, PlanChange>, uid: string, change: PlanChange): void {
    queue.delete(uid);
    this.inFlight.add(uid);
    void this.apply(change).finally(() => {
      this.inFlight.delete(uid);
      this.pump();
      this.notifyIdle();
    });
  }

  private async apply(change: PlanChange): Promise<void> {
    try {
      let taken = false;
      for (const job of change.cancel) {
        if (this.opts.signal.aborted) return;
        if (await this.opts.enqueuer.cancel(job.id, job.shard)) this.counts.cancelled++;
        else if (change.add && isSameSync(job, change.add)) taken = TAKEN_STATES.has(await this.opts.enqueuer.stateOf(job.id, job.shard));
      }
      // The job a fair-share move (or any re-placement of the same spec sync) replaces was taken
      // by a worker before the cancel reached it: that worker syncs this generation, so its copy
      // at the new place would sync it twice. The planner keeps the copy in its plan (its budget
      // stays booked until the status shows the sync and the item is planned anew).
      if (taken) this.counts.alreadyTaken++;
      else if (change.add && !this.opts.signal.aborted) {
        await this.opts.enqueuer.enqueue(syncJobOf(change.add, this.opts.epoch, this.opts.planShard), change.add.id, change.add.shard, this.now());
        this.counts.added++;
      }
      this.failures = 0;
    } catch (e) {
      this.counts.errors++;
      this.failures++;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(this.failures, 7));
      this.opts.logger.warn({ err: (e as Error).message, uid: change.uid, retryInMs: delay }, 'queue operation failed; retrying');
      const later = this.takeWaiting(change.uid);
      this.putWaiting(later ? merge(change, later, false) : change);
      if (!this.retryTimer && !this.opts.signal.aborted) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.pump();
        }, delay);
      }
    }
  }

  private notifyIdle(): void {
    if (this.inFlight.size > 0) return;
    if (this.urgent.size + this.waiting.size > 0 && !this.opts.signal.aborted) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** An earlier change followed by a later one for the same ExternalSecret. */
function merge(earlier: PlanChange, later: PlanChange, earlierUnsent: boolean): PlanChange {
  const cancel = new Map<string, PlannedSync>();
  for (const j of [...earlier.cancel, ...later.cancel]) cancel.set(j.id, j);
  let add = later.add;
  if (!add && earlier.add && !cancel.has(earlier.add.id)) add = earlier.add;
  if (add) cancel.delete(add.id);
  // An earlier add that a later change superseded was never sent: nothing to cancel for it.
  // (After a failed attempt it may have reached Redis, so its cancel stays.)
  if (earlierUnsent && earlier.add && earlier.add.id !== add?.id) cancel.delete(earlier.add.id);
  const merged: PlanChange = { uid: later.uid, cancel: [...cancel.values()] };
  if (add) merged.add = add;
  return merged;
}
