// Turns the planner's PlanChanges into queue operations, in order per ExternalSecret, with
// bounded concurrency and retries on Redis errors. It stops taking work the moment the
// leader's signal aborts: a deposed leader enqueues nothing new (what is in flight is
// harmless, the ids being deterministic). While the term is paused (its Lease's renewal overdue)
// it keeps and merges what it is given and sends it when the term resumes.
//
// Group jobs: a refresh of an ExternalSecret whose remote key others read too is held here
// until shortly before its instant, then sent with the other refreshes of its group planned for
// that same instant as one job (core's SyncGroupJob), so one worker process runs them and its
// coalescer makes one call. Held changes are only in this process's memory: a leader that dies
// holding them leaves nothing in Redis, and its successor plans them anew from Kubernetes.
import { isSpecLane, MAX_GROUP_MEMBERS, syncGroupJobId, type Logger, type SyncJob } from '@herdless/core';
import { createHash } from 'node:crypto';
import { Heap } from 'heap-js';
import type { SyncEnqueuer } from './enqueuer.js';
import type { PlanChange, PlannedSync } from '../planning/plan.js';

/**
 * Whether the term may enqueue now, and when that changes (the elector's TermGate, closed while
 * the Lease's renewal is overdue). While paused, changes are kept and merged, nothing is sent;
 * calls already in flight finish (their ids are deterministic).
 */
export interface PauseGate {
  readonly paused: boolean;
  /** Calls `listener` on each change; returns a detach. */
  onChange(listener: (paused: boolean) => void): () => void;
}

export interface DispatcherOptions {
  enqueuer: Pick<SyncEnqueuer, 'enqueue' | 'cancel' | 'stateOf'> & Partial<Pick<SyncEnqueuer, 'enqueueGroup'>>;
  /**
   * The opaque hash of a read group the job's ExternalSecret shares with other planned jobs
   * (undefined: none). Refreshes with one are held and sent as group jobs; without this option
   * (or without the enqueuer's enqueueGroup) every job goes alone.
   */
  groupOf?: (job: PlannedSync) => string | undefined;
  /** How long before its instant a group is sent (default GROUP_LEAD_MS). */
  groupLeadMs?: number;
  epoch: number;
  /** Sharded planning: the plan shard whose jobs these are (carried by each job, for the workers' term check). */
  planShard?: number;
  signal: AbortSignal;
  /** Sends nothing while paused (lifetime/term-gate.ts); absent: never paused. */
  gate?: PauseGate;
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

/**
 * A group is sent this long before its instant: enough for the send to reach Redis before the
 * instant (the job then waits delayed until it), short enough that nearly every member has been
 * planned by then (a refresh is planned when its previous sync's status comes back, a whole
 * interval ahead). A member planned for the instant after its group was sent goes alone.
 */
export const GROUP_LEAD_MS = 2_000;

/** Node's timers hold at most 2^31 − 1 ms (a longer one fires at once); a far send re-arms hourly. */
const MAX_TIMER_MS = 3_600_000;

/** A read group's opaque name on the queue (group job ids): no remote key name in Redis. */
export function groupHashOf(group: string): string {
  return createHash('sha256').update(group).digest('base64url').slice(0, 22);
}

/** A held refresh: its change (an add, no cancels) and the (shard, group, instant) it waits for. */
interface Held {
  change: PlanChange & { add: PlannedSync };
  key: string;
  group: string;
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
  /** Refreshes held for their group's send, by uid, and the uids of each (shard, group, instant). */
  private readonly held = new Map<string, Held>();
  private readonly heldAt = new Map<string, Set<string>>();
  /** When each (shard, group, instant) is sent, the earliest first. */
  private readonly sends = new Heap<{ at: number; key: string }>((a, b) => a.at - b.at);
  private sendTimer: NodeJS.Timeout | undefined;
  private sendTimerAt = Infinity;
  private readonly groupLeadMs: number;
  private readonly inFlight = new Set<string>();
  private readonly concurrency: number;
  private readonly now: () => number;
  private idleWaiters: Array<() => void> = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Jobs added and cancelled, for logs and tests. */
  readonly counts = { added: 0, cancelled: 0, errors: 0, alreadyTaken: 0, groupJobs: 0, grouped: 0 };

  constructor(private readonly opts: DispatcherOptions) {
    this.concurrency = opts.concurrency ?? 32;
    this.now = opts.now ?? Date.now;
    this.groupLeadMs = opts.groupLeadMs ?? GROUP_LEAD_MS;
    // Resumed: the groups whose time came while paused, then everything kept.
    const detachGate = opts.gate?.onChange((paused) => {
      if (!paused) this.sendDueGroups();
    });
    opts.signal.addEventListener('abort', () => {
      detachGate?.();
      this.held.clear();
      this.heldAt.clear();
      this.sends.clear();
      if (this.sendTimer) clearTimeout(this.sendTimer);
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
    const h = this.unhold(uid);
    // A held add's cancels were sent (or wait) on their own: together they are one change again.
    return c && h ? merge(c, h, true) : (c ?? h);
  }

  private unhold(uid: string): PlanChange | undefined {
    const h = this.held.get(uid);
    if (!h) return undefined;
    this.held.delete(uid);
    const at = this.heldAt.get(h.key);
    at?.delete(uid);
    if (at?.size === 0) this.heldAt.delete(h.key);
    return h.change;
  }

  /**
   * The group to hold this change's add for, when it is a shared refresh still ahead. One planned
   * within the lead is held too, and sent on the send timer's next turn: the other members a pass
   * plans for its instant are submitted in the same turn, and go with it. (Sent alone at once, the
   * members of a group whose first refresh after creation was re-spread into the next seconds went
   * as one job each: packages/scheduler/test/group-jobs-failover.test.ts failed in 2 of 3 runs
   * beside other tests.)
   */
  private groupToHold(change: PlanChange): string | undefined {
    const add = change.add;
    if (!add || add.reason !== 'refresh' || !this.opts.groupOf || !this.opts.enqueuer.enqueueGroup) return undefined;
    if (add.plannedAt <= this.now()) return undefined;
    return this.opts.groupOf(add);
  }

  private putWaiting(change: PlanChange): void {
    const group = this.groupToHold(change);
    if (group !== undefined && change.add) {
      const add = change.add;
      const key = `${add.shard}\u0000${group}\u0000${add.plannedAt}`;
      this.held.set(change.uid, { change: { uid: change.uid, cancel: [], add }, key, group });
      let at = this.heldAt.get(key);
      if (!at) {
        this.heldAt.set(key, (at = new Set()));
        this.sends.push({ at: Math.max(this.now(), add.plannedAt - this.groupLeadMs), key });
        this.armSendTimer();
      }
      at.add(change.uid);
      // The cancels of its earlier jobs go now; the add waits for its group.
      if (change.cancel.length === 0) return;
      change = { uid: change.uid, cancel: change.cancel };
    }
    if (!isUrgent(change)) {
      this.waiting.set(change.uid, change);
      return;
    }
    this.urgent.set(change.uid, change);
    this.urgentByTime.push({ uid: change.uid, change });
  }

  /** True while a change for this ExternalSecret has not reached Redis yet (held ones included). */
  has(uid: string): boolean {
    return this.urgent.has(uid) || this.waiting.has(uid) || this.inFlight.has(uid) || this.held.has(uid);
  }

  /** Refreshes held for their group's send (not counted in backlog nor awaited by idle). */
  get heldCount(): number {
    return this.held.size;
  }

  private armSendTimer(): void {
    const next = this.sends.peek();
    if (!next || this.opts.signal.aborted || next.at >= this.sendTimerAt) return;
    if (this.sendTimer) clearTimeout(this.sendTimer);
    this.sendTimerAt = next.at;
    this.sendTimer = setTimeout(() => {
      this.sendTimer = undefined;
      this.sendTimerAt = Infinity;
      this.sendDueGroups();
    }, Math.min(MAX_TIMER_MS, Math.max(0, next.at - this.now())));
    this.sendTimer.unref();
  }

  /**
   * Sends every group whose time has come: the refreshes held for one (shard, group, instant) as
   * group jobs of at most MAX_GROUP_MEMBERS, a lone one as an ordinary job. Called by the timer;
   * public for tests that drive the clock.
   */
  sendDueGroups(): void {
    if (this.opts.signal.aborted || this.opts.gate?.paused) return;
    const now = this.now();
    for (let next = this.sends.peek(); next && next.at <= now; next = this.sends.peek()) {
      this.sends.pop();
      const uids = this.heldAt.get(next.key);
      if (!uids) continue;
      const members: Array<PlanChange & { add: PlannedSync }> = [];
      let group = '';
      for (const uid of [...uids].sort()) {
        const h = this.held.get(uid) as Held;
        group = h.group;
        this.unhold(uid);
        // Its cancels still on their way: the add follows them as an ordinary change.
        if (this.inFlight.has(uid) || this.waiting.has(uid)) this.putAlone(h.change);
        else members.push(h.change);
      }
      if (members.length === 1) this.putAlone(members[0] as PlanChange);
      else for (let part = 0; part * MAX_GROUP_MEMBERS < members.length; part++) this.sendGroup(members.slice(part * MAX_GROUP_MEMBERS, (part + 1) * MAX_GROUP_MEMBERS), group, part);
    }
    this.armSendTimer();
    this.pump();
  }

  /** A change that goes as an ordinary job (merged with what waits for its ExternalSecret). */
  private putAlone(change: PlanChange): void {
    const before = this.urgent.get(change.uid) ?? this.waiting.get(change.uid);
    this.urgent.delete(change.uid);
    this.waiting.delete(change.uid);
    const merged = before ? merge(before, change, true) : change;
    if (!isUrgent(merged)) this.waiting.set(merged.uid, merged);
    else {
      this.urgent.set(merged.uid, merged);
      this.urgentByTime.push({ uid: merged.uid, change: merged });
    }
  }

  private sendGroup(members: ReadonlyArray<PlanChange & { add: PlannedSync }>, group: string, part: number): void {
    const first = (members[0] as PlanChange & { add: PlannedSync }).add;
    for (const m of members) this.inFlight.add(m.uid);
    const jobs = members.map((m) => ({ id: m.add.id, job: syncJobOf(m.add, this.opts.epoch, this.opts.planShard) }));
    const enqueueGroup = this.opts.enqueuer.enqueueGroup as NonNullable<DispatcherOptions['enqueuer']['enqueueGroup']>;
    void enqueueGroup
      .call(this.opts.enqueuer, jobs, syncGroupJobId(group, first.plannedAt, part), first.shard, this.now())
      .then(
        () => {
          this.counts.added += members.length;
          this.counts.grouped += members.length;
          this.counts.groupJobs++;
          this.failures = 0;
        },
        (e: unknown) => {
          // Not sent: each member goes alone, with the ordinary retries.
          this.counts.errors++;
          this.opts.logger.warn({ err: (e as Error).message, members: members.length }, 'group job not sent; its members go as ordinary jobs');
          for (const m of members) this.putAlone(m);
        },
      )
      .finally(() => {
        for (const m of members) this.inFlight.delete(m.uid);
        this.pump();
        this.notifyIdle();
      });
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
    if (this.opts.signal.aborted || this.retryTimer || this.opts.gate?.paused) return;
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
