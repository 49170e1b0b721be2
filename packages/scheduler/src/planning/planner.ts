// What is planned: for each ExternalSecret, when its next sync runs and in which lane.
// Pure: state and time in, decisions out. It knows nothing of Kubernetes or Redis; the
// leader session feeds it PlanItems and turns its PlanChanges into queue operations.
import { isSpecLane, syncJobId } from '@herdless/core';
import { Heap } from 'heap-js';
import { decideIntent, servesIntent, type DecideOptions } from './intent.js';
import type { Intent, ItemMemory, Placement, PlanChange, PlannedSync } from './plan.js';
import type { PlanItem } from './plan-item.js';
import { nextSecondStart, SECOND } from './placement/slot-maths.js';

/** A refresh planned after its deadline, tried again for an earlier place at `at` (see replaceLate). */
interface LateJob {
  uid: string;
  id: string;
  at: number;
  tries: number;
}

/** Late refreshes tried again for an earlier place in one rebalance (once a second) at most. */
const LATE_RETRIES_PER_PASS = 200;
/** A late refresh that found no earlier place is tried again after this, doubling, up to LATE_RETRY_MAX_MS. */
const LATE_RETRY_MS = 10_000;
const LATE_RETRY_MAX_MS = 300_000;

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
  /** Refreshes planned after their deadline, by when to try them again (see replaceLate). */
  private readonly lateJobs = new Heap<LateJob>((a, b) => a.at - b.at);
  private lastLateRetryMs = -Infinity;
  /** Late refreshes placed anew earlier (replaceLate), for tests. */
  movedEarlier = 0;
  /** Re-spread refreshes moved behind a backlog (rebalance), for the metric. */
  movedBehindBacklog = 0;
  /** Spec jobs moved to the end of their namespace's backlog by another's new spec (fair share). */
  movedForFairShare = 0;
  /** The queue changes of those moves, returned with the next observeAll or rebalance. */
  private readonly moved: PlanChange[] = [];
  /** The uids a replaceWhereSteps under way has released and not yet placed anew. */
  private readonly awaitingPlace = new Set<string>();

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

  /**
   * Re-decides one item from its latest state; returns what the queue must change, if anything.
   * Jobs its placement moved (fair share) come with the next observeAll or rebalance, or takeMoved.
   */
  observe(item: PlanItem, now: number): PlanChange | undefined {
    return this.place(this.decide(item, now), now);
  }

  /**
   * Re-decides many items at once (a new leader's first pass): specs first, then retries, then
   * overdue items earliest deadline first, then refreshes by deadline — so recovery releases the
   * backlog in deadline order and new specs are not queued behind it. The specs are taken in the
   * order of their virtual finish time under the namespaces' weights (weighted fair queuing within
   * the pass): a namespace's k-th spec of the pass finishes at its first k specs' calls over its
   * weight. Taken in arrival order, a block of one namespace's specs filled the slots first and
   * the next namespace's each displaced one of them; the displaced job may not overtake the
   * namespace that displaced it, so it ended behind more than its share of that namespace's
   * (fast-check: [A×20, B×20, D×1] at budget 4, A weighing 3: one of A's at +10 s behind 17 of
   * B's calls, where its share allows 5.7).
   */
  observeAll(items: Iterable<PlanItem>, now: number): PlanChange[] {
    const entries = [...items].map((item) => this.decide(item, now));
    const finish = this.virtualFinish(entries, now);
    entries.sort((a, b) => rank(a) - rank(b) || (finish.get(a) ?? 0) - (finish.get(b) ?? 0) || deadlineOf(a) - deadlineOf(b));
    const changes: PlanChange[] = [];
    for (const e of entries) {
      const c = this.place(e, now);
      if (c) changes.push(c);
    }
    changes.push(...this.takeMoved());
    this.fixUpPass(entries, now, changes);
    // A job moved twice in the pass (or a new spec moved before it reached the queue) makes one
    // queue change, not one per move.
    return coalesce(changes);
  }

  /**
   * A spec placed later in a pass may land in front of its own namespace's older jobs (it
   * overtakes a third namespace there), putting one more of its calls before a spec of another
   * namespace placed earlier in the pass than that one's share allows. Those specs are placed
   * anew (earlier), a few rounds at most; their changes join the pass's, which observeAll merges
   * per item (coalesce), so a spec of the pass reaches the queue once, at its final place.
   */
  private fixUpPass(entries: readonly Entry[], now: number, changes: PlanChange[]): void {
    const { overtakable } = this.placement;
    const specs = entries.filter((e) => rank(e) === 0 && e.memory.planned !== undefined);
    if (!overtakable || new Set(specs.map((e) => e.item?.namespace)).size < 2) return;
    const byUid = new Map(specs.map((e) => [e.item?.uid, e]));
    for (let round = 0; round < FIX_UP_ROUNDS; round++) {
      const jobs = specs.flatMap((e) => (e.memory.planned ? [e.memory.planned] : []));
      const behind = overtakable.call(this.placement, jobs, now);
      if (behind.length === 0) break;
      for (const job of behind) {
        const entry = byUid.get(job.uid);
        if (!entry || entry.memory.planned !== job) continue;
        changes.push(this.placeAnew(entry, now), ...this.takeMoved());
      }
    }
  }

  /**
   * Each spec-lane entry's virtual finish time in the pass: the spec calls its namespace has
   * planned after now on its provider key (what the placement's overtaking scan counts), plus its
   * calls in the pass so far, its own included, over the namespace's weight.
   */
  private virtualFinish(entries: readonly Entry[], now: number): Map<Entry, number> {
    const finish = new Map<Entry, number>();
    const served = new Map<string, number>();
    for (const e of entries) {
      if (rank(e) !== 0 || !e.item) continue;
      const k = `${e.item.providerKey}\u0000${e.item.namespace}`;
      // A changed spec's current job is released before it is placed: not counted ahead of it.
      const ownAhead = e.memory.planned && isSpecLane(e.memory.planned.reason) && e.memory.planned.plannedAt >= nextSecondStart(now) ? e.memory.planned.cost : 0;
      const calls = (served.get(k) ?? (this.placement.specCallsAhead?.(e.item, now) ?? 0)) - ownAhead + e.item.cost;
      served.set(k, calls);
      finish.set(e, calls / Math.max(this.placement.weightOf?.(e.item.namespace) ?? 1, Number.EPSILON));
    }
    return finish;
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
        // A re-spread refresh adopted inside a backlog (a term restarted in a storm): followed as
        // one this term placed.
        this.follow(intent, current, now);
      }
      return undefined;
    }
    return this.placeAnew(entry, now);
  }

  /**
   * Places the entry's intent (its current job, if any, is cancelled). `follow`: the new job is
   * followed if in a backlog or late; a caller that may put the old job back follows it itself.
   */
  private placeAnew(entry: Entry, now: number, follow = true): PlanChange {
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
    if (follow) this.follow(intent, job, now);
    this.placeDisplaced(now);
    return { uid: item.uid, cancel: current && current.id !== job.id ? [current] : [], add: job };
  }

  /** A re-spread job planned while a backlog is still to run: followed, so it moves behind the backlog if that outlasts it (rebalance). */
  private followIfInBacklog(intent: Extract<Intent, { kind: 'sync' }>, job: PlannedSync, now: number): void {
    if (intent.respread && this.placement.backlogClearOf?.(job, now) !== undefined) this.behindBacklog.push({ uid: job.uid, id: job.id, plannedAt: job.plannedAt });
  }

  /** Places anew the jobs the last placement displaced (fair share); their changes wait in `moved`. */
  private placeDisplaced(now: number): void {
    for (const job of this.placement.takeDisplaced?.() ?? []) {
      const entry = this.entries.get(job.uid);
      if (!entry || entry.memory.planned !== job || entry.intent?.kind !== 'sync') continue;
      this.moved.push(this.placeAnew(entry, now));
      this.movedForFairShare++;
    }
  }

  /** Queue changes of jobs moved for fair share since the last call (observeAll and rebalance return them too). */
  takeMoved(): PlanChange[] {
    return this.moved.splice(0);
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
    return this.moveBehindBacklog(now).concat(this.replaceLate(now), this.takeMoved());
  }

  /**
   * Tries the refreshes planned after their deadline for an earlier place, at most
   * LATE_RETRIES_PER_PASS a second, earliest due first. A refresh is planned late when no slot
   * before its deadline had room on the budget it was placed on, and nothing placed it again when
   * room came: a plan shard's share that grows leaves the plan as it is (shard-share.ts), and a
   * storm's last budget moves placed shards anew on shares its pending specs had shrunk (the
   * 100,000 sharded run: 15,574 and 15,009 refreshes of two shards planned late at the storm's
   * end, still so an interval later, while each shard had planned 8 calls a second of 14). One
   * that finds no earlier place is tried again later, backing off.
   */
  private replaceLate(now: number): PlanChange[] {
    const changes: PlanChange[] = [];
    if (this.lateJobs.length === 0 || now - this.lastLateRetryMs < SECOND) return changes;
    this.lastLateRetryMs = now;
    let tried = 0;
    for (let e = this.lateJobs.peek(); e !== undefined && e.at <= now && tried < LATE_RETRIES_PER_PASS; e = this.lateJobs.peek()) {
      this.lateJobs.pop();
      const entry = this.entries.get(e.uid);
      const job = entry?.memory.planned;
      // Replaced, gone, no longer late, or due now (it may be running): no longer followed.
      if (!entry || job?.id !== e.id || job.deadline === undefined || job.plannedAt <= job.deadline || entry.intent?.kind !== 'sync' || job.plannedAt <= now + SECOND) continue;
      tried++;
      // Not followed by placeAnew: a try that finds the old second has the old id, and following
      // it there would try it again a second later, past its back-off.
      const change = this.placeAnew(entry, now, false);
      if (change.add && change.add.plannedAt < job.plannedAt) {
        changes.push(change);
        this.movedEarlier++;
        this.follow(entry.intent, change.add, now);
        continue;
      }
      // No earlier place: it stays as it was, tried again later.
      if (change.add) this.placement.release(change.add);
      this.keep(entry, job);
      this.lateJobs.push({ uid: e.uid, id: job.id, at: now + Math.min(LATE_RETRY_MAX_MS, LATE_RETRY_MS * 2 ** e.tries), tries: e.tries + 1 });
    }
    return changes;
  }

  /** A job just planned: followed while in a backlog (rebalance) or late (replaceLate). */
  private follow(intent: Extract<Intent, { kind: 'sync' }>, job: PlannedSync, now: number): void {
    this.followIfInBacklog(intent, job, now);
    this.followIfLate(job, now);
  }

  /** A refresh planned after its deadline is followed, to be placed earlier when room comes (replaceLate). */
  private followIfLate(job: PlannedSync, now: number): void {
    if (job.deadline !== undefined && job.plannedAt > job.deadline) this.lateJobs.push({ uid: job.uid, id: job.id, at: now + SECOND, tries: 0 });
  }

  private moveBehindBacklog(now: number): PlanChange[] {
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

  /**
   * Places anew every job still to come (from the next second on) of the items `affected` picks,
   * in a pass's order (specs, retries, overdue, refreshes by deadline): the budget they were
   * placed on moved (a plan shard's share). All are released first, so they are placed against
   * each other on the new budget, not against their own old places.
   */
  replaceWhere(affected: (item: PlanItem) => boolean, now: number): PlanChange[] {
    const changes: PlanChange[] = [];
    for (const step of this.replaceWhereSteps(affected, () => now)) changes.push(...step);
    return coalesce(changes);
  }

  /**
   * replaceWhere in steps, for a caller that must not hold its event loop for the whole of it: at
   * a plan shard's budget move in the lab's 100,000 run one replaceWhere took 5 to 10 s of
   * placing in one piece, long enough for the replica's Lease renewals to miss their deadline
   * (and once to lose a shard to another replica). Each step places one item anew and yields its
   * changes with the moves it caused. Between steps the caller may observe and forget items the
   * steps have not released (a new spec is planned at once, not after the move); an item released
   * and not yet placed anew (awaitsPlacing) waits for its step. `now` is read at each step, so an
   * item is placed from the second it is placed in. Steps left undone (the caller stopped) put
   * their items' jobs back as they were, as the queue still holds them.
   */
  *replaceWhereSteps(affected: (item: PlanItem) => boolean, now: () => number): Generator<PlanChange[], void, void> {
    const from = nextSecondStart(now());
    const entries = [...this.entries.values()].filter((e) => e.item && e.intent?.kind === 'sync' && e.memory.planned && e.memory.planned.plannedAt >= from && affected(e.item));
    const old = new Map<Entry, PlannedSync>();
    for (const e of entries) {
      const job = e.memory.planned as PlannedSync;
      this.placement.release(job);
      delete e.memory.planned;
      old.set(e, job);
      this.awaitingPlace.add(job.uid);
    }
    entries.sort((a, b) => rank(a) - rank(b) || deadlineOf(a) - deadlineOf(b));
    try {
      for (const e of entries) {
        const before = old.get(e) as PlannedSync;
        old.delete(e);
        this.awaitingPlace.delete(before.uid);
        const t = now();
        if (before.plannedAt < nextSecondStart(t)) {
          // Its time came while the steps before ran: a worker may hold it already, and a cancel
          // that finds it taken leaves it to run beside its new copy (1,421 ExternalSecrets with
          // two jobs at a kill in the lab's 100,000 run). It stays as it is, as replaceWhere in
          // one piece leaves the jobs of the current second.
          this.keep(e, before);
          continue;
        }
        const c = this.placeAnew(e, t);
        yield [before.id === c.add?.id ? { uid: c.uid, cancel: [] } : { ...c, cancel: [before] }, ...this.takeMoved()];
      }
    } finally {
      for (const [e, before] of old) {
        this.awaitingPlace.delete(before.uid);
        this.keep(e, before);
      }
    }
    const moved = this.takeMoved();
    if (moved.length > 0) yield moved;
  }

  /** A job released for placing anew stays as it was. */
  private keep(e: Entry, job: PlannedSync): void {
    e.memory.planned = job;
    this.placement.reserve(job);
  }

  /**
   * Whether the uid's job is released by a replaceWhereSteps under way and not yet placed anew:
   * the caller leaves it alone (no observe, no forget) until its step.
   */
  awaitsPlacing(uid: string): boolean {
    return this.awaitingPlace.has(uid);
  }

  /**
   * Whether a replaceWhereSteps is under way: its items are out of plannedJobs until placed anew,
   * so what is read from the plan (a shard's demand) is short of them meanwhile.
   */
  get replacing(): boolean {
    return this.awaitingPlace.size > 0;
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

/** Rounds of fixUpPass: each re-places the pass's specs left behind their share by the round before. */
const FIX_UP_ROUNDS = 3;

/**
 * One change per item: cancels of jobs added earlier in the same list are dropped (they never
 * reached the queue), the last add wins, and a job re-added under the id it had is not cancelled.
 */
function coalesce(changes: readonly PlanChange[]): PlanChange[] {
  const byUid = new Map<string, PlanChange>();
  for (const c of changes) {
    const prev = byUid.get(c.uid);
    if (!prev) {
      byUid.set(c.uid, { uid: c.uid, cancel: [...c.cancel], ...(c.add ? { add: c.add } : {}) });
      continue;
    }
    for (const x of c.cancel) {
      if (prev.add?.id === x.id) delete prev.add;
      else prev.cancel.push(x);
    }
    if (c.add) {
      prev.add = c.add;
      prev.cancel = prev.cancel.filter((x) => x.id !== c.add?.id);
    }
  }
  return [...byUid.values()].filter((c) => c.add !== undefined || c.cancel.length > 0);
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
