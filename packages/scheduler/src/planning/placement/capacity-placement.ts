// Herdless's placement: each sync goes into a one-second slot of its provider key's calendar
// without exceeding the budget of any operation it calls. Refreshes take the least-loaded slot
// of [deadline − spread, deadline] (of the whole interval after an off-plan sync); specs,
// retries and overdue items the first slot with room in their lane's share (catch-up may fill
// a slot, new specs preempt it). When no slot before the deadline has room, it slips to the first
// slot after it (deadline order) and is counted as late — work is never dropped.
import { budgetRpsOf, DEFAULT_BUDGETS, DEFAULT_RESERVED_SHARE, isSpecLane, routineShareOf, sustainedRpsOf, type BudgetTable } from '@herdless/core';
import { jitterAfter, jitterPrefix } from '../retry-backoff.js';
import type { Intent, Placement, PlannedSync } from '../plan.js';
import type { PlanItem } from '../plan-item.js';
import { BacklogLedger } from './backlog-ledger.js';
import { FairShare, type TenantShares } from './fair-share.js';
import { SharedKeys } from './shared-keys.js';
import { SlotCalendar } from './slot-calendar.js';
import { budgetKeyOf, callsOf, callsOnKey, DEFAULT_SPREAD_FRACTION, EPS, graceSecondsOf, hasRoom, SECOND, slotCap, splitBudgetKey } from './slot-maths.js';

export interface CapacityOptions {
  budgets?: BudgetTable;
  /** Share of a budget routine refreshes may plan (default 0.8). */
  targetUtilisation?: number;
  /** Share of a budget only new or changed specs may use (default 0.2). */
  reservedShare?: number;
  /** Refresh window before the deadline, as a fraction of the interval (default 0.1). */
  spreadFraction?: number;
  /** The window of a refresh after a sync that ran off-plan (new, changed, retry, overdue), as a
   *  fraction of the interval (default 1: anywhere between now and the deadline). Such syncs run
   *  in bursts; spreading their next refresh over the whole interval is what de-phases the fleet
   *  after a mass creation or a recovery, at the cost of at most one early refresh each. */
  respreadFraction?: number;
  /** How far ahead to look for a slot with room (default 7 days). */
  horizonSeconds?: number;
  /** The operator's weights and caps per namespace (fair-share.ts). */
  tenants?: TenantShares;
  /** Sharded planning: this plan shard's share of a key's whole budget (sharding/shard-share.ts); unset: the whole budget. */
  budgetShare?: (providerKey: string, operation: string, budgetRps: number) => number;
}

export interface CapacityReport {
  providerKey: string;
  operation: string;
  budgetRps: number;
  /** Calls planned in the next `windowSeconds`. */
  plannedCalls: number;
  /** Calls the workers' limiter admits on the budget in the same window (sustainedRpsOf). */
  availableCalls: number;
}

/** A new spec may move others' jobs, and those theirs, but no further (see CapacityPlacement.moving). */
const MAX_MOVE_DEPTH = 2;

/** A displaced job on its way to its new place (see CapacityPlacement.moving). */
interface Move {
  /** Moves that led to it: 1 for a job a new spec displaced, 2 for one that job displaced. */
  depth: number;
  /** The slot it lost. */
  fromSecond: number;
  /** The namespace of the spec that took its slot. */
  displacedBy: string;
}

/** A shared key's ride fills a slot to this share of the lane's rate at most (see placeOnCalendar). */
const RIDE_MAX_FILL = 0.8;

/** Candidate slots examined in one window at most; longer windows are sampled evenly. */
const MAX_CANDIDATES = 2048;

export class CapacityPlacement implements Placement {
  readonly calendar = new SlotCalendar();
  /** The overdue lane's share of each slot's load (also counted in `calendar`). */
  private readonly catchUp = new SlotCalendar();
  /** Calls of spec and overdue jobs planned and not yet done, per budget key (past slots included). */
  private readonly backlog: BacklogLedger;
  private readonly budgets: BudgetTable;
  private readonly routineShare: number;
  private readonly nonSpecShare: number;
  private readonly spreadFraction: number;
  private readonly respreadFraction: number;
  private readonly horizonSeconds: number;
  private readonly budgetShare: ((providerKey: string, operation: string, budgetRps: number) => number) | undefined;
  /** The whole budget (rps) last seen per budget key (this shard's share of it: budgetOf). */
  private readonly budgetRps = new Map<string, number>();
  /** Per provider key: planned jobs that run after their deadline. */
  private readonly late = new Map<string, number>();
  /** Scan hints: per (provider key, lane share, cost) the first slot that may have room. */
  private readonly cursors = new Map<string, { start: number; free: number }>();
  /** Fair share between namespaces and their caps. */
  readonly fair: FairShare;
  /** Who reads which shared remote key, and where their refreshes are planned (co-slotting). */
  readonly sharedKeys = new SharedKeys();
  private readonly displaced: PlannedSync[] = [];
  private refusedByCap = false;
  /**
   * Displaced jobs the planner is to place anew, by uid, with the move that led to them. A moved
   * job keeps its fair share (it may overtake namespaces further over theirs, or it would wait
   * behind every backlog on the key); the jobs it displaces in turn overtake nobody, so a new
   * spec moves at most two levels of jobs. A moved job goes after the slot it lost and never
   * takes the place of the namespace that displaced it: every move then takes calls later, never
   * earlier, and never away from the new spec's namespace, so the fair place each new spec found
   * when placed still holds once its whole batch is planned (the others' calls before it can only
   * fall, its own namespace's only grow).
   */
  private readonly moving = new Map<string, Move>();
  /** The move that led to the job being placed, and its namespace: the move its displaced jobs make next. */
  private displacing: { depth: number; namespace: string } = { depth: 0, namespace: '' };

  constructor(opts: CapacityOptions = {}) {
    this.budgets = opts.budgets ?? DEFAULT_BUDGETS;
    const reserved = opts.reservedShare ?? DEFAULT_RESERVED_SHARE;
    this.backlog = new BacklogLedger(reserved);
    this.nonSpecShare = 1 - reserved;
    this.routineShare = routineShareOf(opts.targetUtilisation, reserved);
    this.spreadFraction = opts.spreadFraction ?? DEFAULT_SPREAD_FRACTION;
    this.respreadFraction = Math.max(this.spreadFraction, opts.respreadFraction ?? 1);
    this.horizonSeconds = opts.horizonSeconds ?? 7 * 24 * 3600;
    this.fair = new FairShare(opts.tenants);
    this.budgetShare = opts.budgetShare;
  }

  /**
   * The share of the budget a lane may fill a slot up to (counting everything already there).
   * Catch-up (overdue) work may fill a slot to the whole budget, but new and changed specs
   * preempt it: they count every lane but catch-up, so the reserve is theirs whenever they need
   * it and the catch-up's when they do not (work-conserving). Preempted catch-up jobs run a
   * little after their slot: the queue runs specs first and the workers' limiter holds the budget.
   */
  shareOf(reason: PlannedSync['reason']): number {
    if (isSpecLane(reason) || reason === 'overdue') return 1;
    if (reason === 'refresh') return this.routineShare;
    return this.nonSpecShare;
  }

  /** Catch-up calls planned in a slot (the part of its load new specs may preempt). */
  catchUpLoad(key: string, second: number): number {
    return this.catchUp.load(key, second);
  }

  budgetOf(providerKey: string, operation: string): number {
    const whole = this.budgetRps.get(budgetKeyOf(providerKey, operation)) ?? budgetRpsOf(this.budgets, providerKey.split('|')[0] ?? '', operation);
    return this.shardShareOf(providerKey, operation, whole);
  }

  /** This plan shard's share of a key's whole budget (the whole budget when planning is not sharded). */
  private shardShareOf(providerKey: string, operation: string, whole: number): number {
    return this.budgetShare ? this.budgetShare(providerKey, operation, whole) : whole;
  }

  place(intent: Extract<Intent, { kind: 'sync' }>, item: PlanItem, now: number): number {
    this.refusedByCap = false;
    const plannedAt = this.placeOnCalendar(intent, item, now);
    // Counted per namespace for the metric: a slot with room in the budget was refused by the cap.
    if (this.refusedByCap) this.fair.countCapped(item.namespace);
    return plannedAt;
  }

  private placeOnCalendar(intent: Extract<Intent, { kind: 'sync' }>, item: PlanItem, now: number): number {
    this.sharedKeys.learn(item);
    const demands = item.calls.map((c) => {
      const whole = budgetRpsOf(this.budgets, item.providerType, c.operation);
      this.budgetRps.set(budgetKeyOf(item.providerKey, c.operation), whole);
      const budget = this.shardShareOf(item.providerKey, c.operation, whole);
      // The lane's share of what the workers' limiter admits (not of the budget: see sustainedRpsOf).
      return { key: budgetKeyOf(item.providerKey, c.operation), calls: c.calls, budget, rate: sustainedRpsOf(budget) * this.shareOf(intent.reason) };
    });
    const nowSec = Math.floor(now / SECOND);
    // Hot loop (a new leader places every item at once): plain loops, one slot map per demand.
    const maps = demands.map((d) => this.calendar.slotsOf(d.key));
    const spec = isSpecLane(intent.reason);
    const preempted = spec ? demands.map((d) => this.catchUp.slotsOf(d.key)) : undefined;
    // Fair share: a spec may take the place of the specs of namespaces that have had more than
    // their share of the slots before (FairShare.overtakingScan); the planner places those anew
    // (takeDisplaced), each at its own namespace's fair place, two levels of moves at most.
    const move = this.moving.get(item.uid);
    this.moving.delete(item.uid);
    const depth = move?.depth ?? 0;
    this.displacing = { depth: depth + 1, namespace: item.namespace };
    const overtaking =
      spec && depth < MAX_MOVE_DEPTH ? demands.map((d) => this.fair.overtakingScan(d.key, item.namespace, d.calls, nowSec, move?.displacedBy)) : undefined;
    const overtakes = overtaking?.some((o) => o.rivals.length > 0) === true;
    const qualified: string[][] = demands.map(() => []);
    const overtaken = (i: number, s: number): number => {
      const o = overtaking?.[i];
      const d = demands[i];
      if (!o || !d || o.rivals.length === 0) return 0;
      // Never a job of the current second: it may be running already (at() is empty for it).
      qualified[i] = o.at(s);
      return qualified[i].length > 0 ? this.fair.preemptableLoad(d.key, qualified[i], s) : 0;
    };
    const loadAt = (i: number, s: number): number => (maps[i]?.get(s) ?? 0) - (preempted?.[i]?.get(s) ?? 0) - overtaken(i, s);
    const cap = this.fair.capOf(item.namespace);
    // `expected`: calls of others still to come to the slot (shared-keys.ts), room kept for them.
    const fits = (s: number, expected = 0): boolean => {
      for (let i = 0; i < demands.length; i++) {
        const d = demands[i] as (typeof demands)[number];
        if (!hasRoom(loadAt(i, s) + expected, d.calls, d.rate, s)) return false;
      }
      // The operator's cap on this namespace: its calls in the slot, every lane, at its share of the rate.
      for (let i = 0; cap !== undefined && i < demands.length; i++) {
        const d = demands[i] as (typeof demands)[number];
        if (!hasRoom(this.fair.cappedLoad(d.key, item.namespace, s), d.calls, sustainedRpsOf(d.budget) * cap, s)) {
          this.refusedByCap = true;
          return false;
        }
      }
      return true;
    };
    const scoreAt = (s: number): number => {
      let score = 0;
      for (let i = 0; i < demands.length; i++) {
        const d = demands[i] as (typeof demands)[number];
        const v = (loadAt(i, s) + d.calls) / Math.max(d.rate, EPS);
        if (v > score) score = v;
      }
      return score;
    };
    // Within its second a job starts after the ones already there, at the limiter's spacing: the
    // jobs of one slot reach the workers' limiter one by one instead of all at the second's start
    // (where all but the first few would be deferred and come back together).
    const at = (s: number): number => {
      const d = demands[0];
      const offset = d ? Math.min(SECOND - 1, Math.floor((Math.max(0, loadAt(0, s)) * SECOND) / Math.max(slotCap(d.rate, s), 1))) : 0;
      return Math.max(intent.earliest, now, s * SECOND + offset);
    };

    if (intent.reason === 'refresh' && intent.deadline !== undefined && item.refresh.policy === 'periodic') {
      const dlSec = Math.floor(intent.deadline / SECOND);
      const fraction = intent.respread ? this.respreadFraction : this.spreadFraction;
      const spreadSec = Math.floor((fraction * item.refresh.intervalMs) / SECOND);
      // Not in the current second: that would be a second call right after the one just made.
      // A re-spread also stays clear of a backlog under way (see backlogClearOf).
      const clearOfBacklog = Math.max(nowSec + 1, intent.respread ? Math.min(dlSec, this.backlog.clearSecond(demands, nowSec)) : 0);
      const lo = Math.max(clearOfBacklog, dlSec - spreadSec);
      if (lo <= dlSec) {
        const step = Math.max(1, Math.ceil((dlSec - lo + 1) / MAX_CANDIDATES));
        // From the deadline backwards, so that between equals the later slot wins (fewer calls).
        // A re-spread breaks ties at random instead (deterministic per item and slot): a burst
        // placed latest-first piles its surplus at the end of the window, a random pick fills
        // the whole window level by level.
        // The last seconds before the deadline (a fifth of the window, at most 30 s) are kept as a
        // margin: a refresh planned there is late after any pause of the workers that leaves a
        // backlog longer than it (the routine lane drains a backlog at the routine share less the
        // plan, about 0.15 of the plan in a steady fleet). They are taken only when no earlier
        // slot of the window has room. The slots nearest a deadline are the emptiest (only the
        // refreshes synced in the last seconds reach them): letting them win whenever strictly
        // less loaded, as before, put nearly every refresh of a steady fleet in its deadline's
        // own second (virtual time, 9,000 at a 30-min interval after their creation: 8,951 of
        // an interval's 8,995 refreshes; now none).
        const fullGraceSec = graceSecondsOf(item.refresh.intervalMs, this.spreadFraction);
        // A routine refresh keeps the margin its previous plan kept (none when not known: a plan
        // rebuilt from nothing keeps the phase it finds); a re-spread one takes the whole grace.
        // Growing the margin as the refreshes come round would move a whole window of refreshes
        // earlier at once and crowd it (a fleet planned from nothing in virtual time, 1 s more
        // each round: peak/mean 1.21 against 1.06 without), so a margin is set where the
        // refreshes are spread anyway: after a creation, a spec change, a retry or a recovery.
        const graceSec = intent.respread ? fullGraceSec : Math.min(fullGraceSec, Math.floor((intent.keptMarginMs ?? 0) / SECOND));
        const soft = Math.max(lo - 1, dlSec - graceSec);
        // A refresh that reads a shared remote key rides in the slot (and at the instant) of its
        // groups' refreshes when one has room (shared-keys.ts), in its window or earlier in its
        // interval, where a re-spread refresh may go anyway (a reader whose phase drifted from its
        // group's joins it once, one early refresh, and keeps its place from then on). One call
        // then serves them all; each job's call is still counted in the slot, so the budget holds
        // whether or not the workers join them.
        const rideLo = Math.max(clearOfBacklog, dlSec - Math.floor(item.refresh.intervalMs / SECOND) + 1);
        // A ride fills a slot to RIDE_MAX_FILL of the lane's rate at most, its group's members still
        // to come included: group slots stacked side by side left the 30-second readers of a
        // round, whose windows are 4 slots, no room (virtual time, shared-keys.test.ts: one late
        // refresh in one seed of 8 when rides filled slots to the rate, none with the bound).
        const rideFits = (r: number, expected: number): boolean => fits(r, expected) && scoreAt(r) + expected / Math.max(demands[0]?.rate ?? 1, EPS) <= RIDE_MAX_FILL + EPS;
        const ride = this.sharedKeys.rideOf(item.uid, { lo: rideLo, soft, hi: dlSec }, rideFits);
        if (ride) return Math.min(Math.max(ride.plannedAt, intent.earliest, now), intent.deadline);
        let best: number | undefined;
        let bestScore = Infinity;
        let ties = 0;
        const uidJitter = jitterPrefix(item.uid);
        const consider = (s: number, tiesWin: boolean): void => {
          if (!fits(s)) return;
          const score = scoreAt(s);
          if (score < bestScore - EPS) {
            best = s;
            bestScore = score;
            ties = 1;
          } else if (tiesWin && intent.respread && score <= bestScore + EPS) {
            ties++;
            if (jitterAfter(uidJitter, s) * ties < 1) best = s;
          }
        };
        for (let s = soft; s >= lo; s -= step) consider(s, true);
        if (best === undefined) for (let s = dlSec; s > soft; s -= step) consider(s, false);
        if (best !== undefined) return Math.min(at(best), intent.deadline);
        // Overload: no room before the deadline. Slip to the first slot with room after it.
        return at(this.firstFit(demands, dlSec + 1, fits, intent.reason, cap !== undefined ? item.namespace : undefined));
      }
    }
    // A displaced job goes later than the slot it lost, never earlier: moved earlier, it would add
    // its namespace's calls before the specs placed meanwhile, whose fair place counted without them.
    const start = Math.max(nowSec, Math.ceil(intent.earliest / SECOND) - (intent.earliest % SECOND === 0 ? 0 : 1), move ? move.fromSecond + 1 : 0);
    // A scan that may overtake others' specs or is capped has its own answer: no shared hint.
    const slot = this.firstFit(demands, start, fits, intent.reason, overtakes || cap !== undefined ? item.namespace : undefined);
    const plannedAt = at(slot);
    const freed = overtakes ? this.displaceSpecs(demands, qualified, slot) : undefined;
    if (preempted) this.displaceCatchUp(demands, slot, freed);
    return plannedAt;
  }

  /**
   * The first slot a re-spread refresh may take while a backlog is under way: after the new and
   * changed specs and the catch-up (overdue) jobs planned and not yet done (past slots included),
   * drained at the non-reserved share of the limiter's rate. The queue runs those lanes before
   * routine work, and they end later than planned whenever the workers run below the limiter's
   * rate (the API server, a stall, late slots: the lab's workers reach 92–98 % of it) or new
   * specs keep taking the reserve from the catch-up (displaceCatchUp). A refresh planned in the
   * calendar's first free slots after the backlog would run late, bunched with the ones after
   * it, and that bunch would come back every interval. This bound counts what is pending when the
   * refresh is placed; specs created later are Planner.rebalance's. Measured in virtual time
   * (10,000 new specs created at 200/s, workers at 95 % of the rate, a 6-minute interval): 846
   * refreshes late and peak/mean 1.46 in the next interval before; 732 and 1.46 with this bound
   * alone; none late and 1.01 with the rebalance too.
   */
  backlogClearOf(job: PlannedSync, now: number): number | undefined {
    const demands = callsOf(job).map((c) => ({ key: budgetKeyOf(job.providerKey, c.operation), budget: this.budgetOf(job.providerKey, c.operation) }));
    const clear = this.backlog.clearSecond(demands, Math.floor(now / SECOND));
    return clear > 0 ? clear : undefined;
  }

  backlogHorizon(now: number): number | undefined {
    let clear = 0;
    const nowSec = Math.floor(now / SECOND);
    for (const key of this.backlog.keys()) {
      const { providerKey, operation } = splitBudgetKey(key);
      clear = Math.max(clear, this.backlog.clearSecond([{ key, budget: this.budgetOf(providerKey, operation) }], nowSec));
    }
    return clear > 0 ? clear : undefined;
  }

  /**
   * A spec placed over a full slot pushes catch-up out of it: the queue runs the spec first and
   * the workers' limiter admits no more, so one catch-up sync of that second runs a second later,
   * and so on down the line: the catch-up ends later by the spec's calls. The calendar says so,
   * moving that much catch-up load from the slot to the first slot after it with room, so that
   * refreshes planned meanwhile are not put where the displaced catch-up will run.
   */
  private displaceCatchUp(demands: ReadonlyArray<{ key: string; calls: number; rate: number }>, slot: number, freed?: readonly number[]): void {
    for (const [i, d] of demands.entries()) {
      // The spec itself is reserved in the slot after this (the planner's reserve); the specs it
      // overtook (displaceSpecs) leave the slot when the planner places them anew.
      const over = Math.min(this.catchUp.load(d.key, slot), this.calendar.load(d.key, slot) - (freed?.[i] ?? 0) + d.calls - slotCap(d.rate, slot));
      if (over <= EPS) continue;
      let t = slot + 1;
      while (t < slot + this.horizonSeconds && !hasRoom(this.calendar.load(d.key, t), over, d.rate, t)) t++;
      this.calendar.move(d.key, slot, t, over);
      this.catchUp.move(d.key, slot, t, over);
    }
  }

  /**
   * A spec placed in a slot full of specs of namespaces further over their share takes their
   * place: as many of theirs as it needs (the furthest over first) are handed to the planner
   * (takeDisplaced), which places them anew at their namespace's fair place (later). So a
   * tenant's new spec waits behind its share of another's mass creation, not behind all of it;
   * a queue change per job moved. Returns the calls freed per demand.
   */
  private displaceSpecs(demands: ReadonlyArray<{ key: string; calls: number; rate: number }>, qualified: ReadonlyArray<readonly string[]>, slot: number): number[] {
    const freed = demands.map(() => 0);
    const moved = new Set<PlannedSync>();
    for (const [i, d] of demands.entries()) {
      const catchUp = this.catchUp.load(d.key, slot);
      const over = () => this.calendar.load(d.key, slot) - catchUp - (freed[i] ?? 0) + d.calls - slotCap(d.rate, slot);
      for (const job of this.fair.jobsIn(d.key, qualified[i] ?? [], slot)) {
        if (over() <= EPS) break;
        if (moved.has(job)) continue;
        moved.add(job);
        for (const [j, e] of demands.entries()) freed[j] = (freed[j] ?? 0) + callsOnKey(job, e.key);
      }
    }
    this.displaced.push(...moved);
    return freed;
  }

  weightOf(namespace: string): number {
    return this.fair.weightOf(namespace);
  }

  specCallsAhead(item: PlanItem, now: number): number {
    const nowSec = Math.floor(now / SECOND);
    return Math.max(0, ...item.calls.map((c) => this.fair.specCallsAfter(budgetKeyOf(item.providerKey, c.operation), item.namespace, nowSec)));
  }

  overtakable(jobs: readonly PlannedSync[], now: number): PlannedSync[] {
    const byKey = new Map<string, PlannedSync[]>();
    for (const job of jobs) {
      if (!isSpecLane(job.reason)) continue;
      for (const c of callsOf(job)) {
        const key = budgetKeyOf(job.providerKey, c.operation);
        let list = byKey.get(key);
        if (!list) byKey.set(key, (list = []));
        list.push(job);
      }
    }
    const out = new Set<PlannedSync>();
    for (const [key, keyJobs] of byKey) for (const job of this.fair.behindShare(key, keyJobs, Math.floor(now / SECOND))) out.add(job);
    return [...out];
  }

  /** Spec jobs whose place a spec took (displaceSpecs): the planner places them anew. */
  takeDisplaced(): PlannedSync[] {
    const jobs = this.displaced.splice(0);
    const { depth, namespace } = this.displacing;
    for (const job of jobs) this.moving.set(job.uid, { depth, fromSecond: Math.floor(job.plannedAt / SECOND), displacedBy: namespace });
    return jobs;
  }

  private firstFit(demands: Array<{ key: string; calls: number; rate: number }>, start: number, fits: (s: number) => boolean, reason: string, unshared?: string): number {
    const lane = reason as PlannedSync['reason'];
    const hint = `${demands.map((d) => `${d.key}:${d.calls}:${d.rate}`).join(',')}|${isSpecLane(lane) ? 'spec' : 'other'}`;
    if (unshared !== undefined) {
      for (let s = start; s <= start + this.horizonSeconds; s++) if (fits(s)) return s;
      return start + this.horizonSeconds;
    }
    // A hint is a lower bound only for scans starting inside the range it proved full.
    const known = this.cursors.get(hint);
    const from = known && start >= known.start && start <= known.free ? known.free : start;
    for (let s = from; s <= start + this.horizonSeconds; s++) {
      if (fits(s)) {
        this.cursors.set(hint, { start: known && from === known.free ? known.start : start, free: s });
        return s;
      }
    }
    return start + this.horizonSeconds;
  }

  sharedGroupOf(uid: string): string | undefined {
    return this.sharedKeys.sharedGroupOf(uid);
  }

  reserve(job: PlannedSync): void {
    const s = Math.floor(job.plannedAt / SECOND);
    this.sharedKeys.reserve(job);
    for (const c of callsOf(job)) {
      const key = budgetKeyOf(job.providerKey, c.operation);
      this.calendar.add(key, s, c.calls);
      if (job.reason === 'overdue') this.catchUp.add(key, s, c.calls);
      if (job.reason === 'overdue' || isSpecLane(job.reason)) this.backlog.add(key, c.calls);
      this.fair.reserve(job, key, c.calls, s, isSpecLane(job.reason));
    }
    if (job.deadline !== undefined && job.plannedAt > job.deadline) this.late.set(job.providerKey, (this.late.get(job.providerKey) ?? 0) + 1);
  }

  release(job: PlannedSync): void {
    const s = Math.floor(job.plannedAt / SECOND);
    this.sharedKeys.release(job);
    for (const c of callsOf(job)) {
      const key = budgetKeyOf(job.providerKey, c.operation);
      this.calendar.remove(key, s, c.calls);
      if (job.reason === 'overdue') this.catchUp.remove(key, s, c.calls);
      if (job.reason === 'overdue' || isSpecLane(job.reason)) this.backlog.remove(key, c.calls);
      this.fair.release(job, key, c.calls, s, isSpecLane(job.reason));
    }
    if (job.deadline !== undefined && job.plannedAt > job.deadline) {
      const n = (this.late.get(job.providerKey) ?? 1) - 1;
      if (n > 0) this.late.set(job.providerKey, n);
      else this.late.delete(job.providerKey);
    }
    // Room was freed: scan hints for this provider key are no longer lower bounds.
    for (const k of this.cursors.keys()) if (k.startsWith(job.providerKey + '#')) this.cursors.delete(k);
  }

  /** Planned jobs that run after their deadline, per provider key (overload or recovery). */
  lateByProviderKey(): Map<string, number> {
    return new Map(this.late);
  }

  /** Planned versus available calls in the next `windowSeconds`, per provider key and operation. */
  report(now: number, windowSeconds = 60): CapacityReport[] {
    const from = Math.floor(now / SECOND);
    const out: CapacityReport[] = [];
    for (const key of this.calendar.keys()) {
      const { providerKey, operation } = splitBudgetKey(key);
      const budget = this.budgetOf(providerKey, operation);
      const plannedCalls = this.calendar.sum(key, from, from + windowSeconds - 1);
      out.push({ providerKey, operation, budgetRps: budget, plannedCalls, availableCalls: sustainedRpsOf(budget) * windowSeconds });
    }
    return out;
  }

  /**
   * Calls planned in the next `windowSeconds` per provider key, operation and namespace, for the
   * namespaces the operator names (weights or caps) only: the metric's cardinality is the
   * configuration's size times the provider keys, never the cluster's namespaces.
   */
  namespaceReport(now: number, windowSeconds = 60): Array<{ providerKey: string; operation: string; namespace: string; plannedCalls: number }> {
    const from = Math.floor(now / SECOND);
    const named = this.fair.namedNamespaces();
    return this.calendar.keys().flatMap((key) => {
      const { providerKey, operation } = splitBudgetKey(key);
      return named.map((namespace) => ({ providerKey, operation, namespace, plannedCalls: this.fair.plannedCalls(key, namespace, from, from + windowSeconds - 1) }));
    });
  }

  prune(now: number): void {
    this.calendar.prune(Math.floor(now / SECOND) - 1);
    this.catchUp.prune(Math.floor(now / SECOND) - 1);
    this.fair.prune(Math.floor(now / SECOND) - 1);
  }
}
