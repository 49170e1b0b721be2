// Turns the planner's PlanChanges into queue operations, in order per ExternalSecret, with
// bounded concurrency and retries on Redis errors. It stops taking work the moment the
// leader's signal aborts: a deposed leader enqueues nothing new (what is in flight is
// harmless, the ids being deterministic).
import type { Logger, SyncJob } from '@herdless/core';
import type { SyncEnqueuer } from './enqueuer.js';
import type { PlanChange, PlannedSync } from './planner.js';

export interface DispatcherOptions {
  enqueuer: Pick<SyncEnqueuer, 'enqueue' | 'cancel'>;
  epoch: number;
  signal: AbortSignal;
  logger: Logger;
  concurrency?: number;
  now?: () => number;
}

export function syncJobOf(job: PlannedSync, epoch: number): SyncJob {
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
  return data;
}

export class Dispatcher {
  private readonly waiting = new Map<string, PlanChange>();
  private readonly inFlight = new Set<string>();
  private readonly concurrency: number;
  private readonly now: () => number;
  private idleWaiters: Array<() => void> = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Jobs added and cancelled, for logs and tests. */
  readonly counts = { added: 0, cancelled: 0, errors: 0 };

  constructor(private readonly opts: DispatcherOptions) {
    this.concurrency = opts.concurrency ?? 32;
    this.now = opts.now ?? Date.now;
    opts.signal.addEventListener('abort', () => {
      this.waiting.clear();
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.notifyIdle();
    });
  }

  submit(change: PlanChange | undefined): void {
    if (!change || this.opts.signal.aborted) return;
    if (change.cancel.length === 0 && !change.add) return;
    const before = this.waiting.get(change.uid);
    this.waiting.set(change.uid, before ? merge(before, change, true) : change);
    this.pump();
  }

  /** True while a change for this ExternalSecret has not reached Redis yet. */
  has(uid: string): boolean {
    return this.waiting.has(uid) || this.inFlight.has(uid);
  }

  /** Resolves when nothing is waiting or in flight (or the signal aborted and in-flight work ended). */
  idle(): Promise<void> {
    if (this.inFlight.size === 0 && (this.waiting.size === 0 || this.opts.signal.aborted)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get backlog(): number {
    return this.waiting.size + this.inFlight.size;
  }

  private pump(): void {
    if (this.opts.signal.aborted || this.retryTimer) return;
    for (const [uid, change] of this.waiting) {
      if (this.inFlight.size >= this.concurrency) break;
      if (this.inFlight.has(uid)) continue;
      this.waiting.delete(uid);
      this.inFlight.add(uid);
      void this.apply(change).finally(() => {
        this.inFlight.delete(uid);
        this.pump();
        this.notifyIdle();
      });
    }
  }

  private async apply(change: PlanChange): Promise<void> {
    try {
      for (const job of change.cancel) {
        if (this.opts.signal.aborted) return;
        if (await this.opts.enqueuer.cancel(job.id, job.shard)) this.counts.cancelled++;
      }
      if (change.add && !this.opts.signal.aborted) {
        await this.opts.enqueuer.enqueue(syncJobOf(change.add, this.opts.epoch), change.add.id, change.add.shard, this.now());
        this.counts.added++;
      }
      this.failures = 0;
    } catch (e) {
      this.counts.errors++;
      this.failures++;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(this.failures, 7));
      this.opts.logger.warn({ err: (e as Error).message, uid: change.uid, retryInMs: delay }, 'queue operation failed; retrying');
      const later = this.waiting.get(change.uid);
      this.waiting.set(change.uid, later ? merge(change, later, false) : change);
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
    if (this.waiting.size > 0 && !this.opts.signal.aborted) return;
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
