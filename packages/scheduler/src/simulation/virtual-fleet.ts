// The planner over time, in virtual seconds: a fleet of ExternalSecrets, the real Planner and
// CapacityPlacement, a queue that runs due jobs by lane and planned time, and workers whose
// limiter admits what the real one does on the budget (sustainedRpsOf), or a share of it
// (workerShare: the lab's workers run a little below it), routine refreshes at the routine
// share of it (routineShareOf), as the real limiter holds them. Each sync reports back
// as the worker's status would. Used by the planner's property tests (planner.dephase.test.ts)
// and by `herdless bench planner`, which runs fleets too large for the lab on this machine.
// No Redis, no API server: this measures the plan, not the system (the lab does that).
import { LANE_PRIORITY, parseBudgets, routineShareOf, sustainedRpsOf, type SyncReason } from '@herdless/core';
import { CapacityPlacement } from '../planning/placement/capacity-placement.js';
import type { PlanItem } from '../planning/plan-item.js';
import type { PlanChange, PlannedSync } from '../planning/plan.js';
import { Planner } from '../planning/planner.js';
import { planShardOf } from '../sharding/plan-shard.js';

export const VIRTUAL_T0 = Date.parse('2030-01-01T00:00:00Z');
const PROVIDER_KEY = 'aws-sm|us-east-1|default|';

export interface VirtualFleet {
  count: number;
  intervalS: number;
  budgetRps: number;
}

/**
 * How the fleet looks when the leader starts: just created; synced once and then the controller
 * down for two intervals (phases spread over one interval, half the routine jobs still queued);
 * or in steady state (synced within the last interval, evenly).
 */
export type FleetStart = 'created' | 'overdue' | 'steady';

export interface SimulationOptions {
  respreadFraction?: number;
  /** New ExternalSecrets created per second during the first `forSeconds` seconds. */
  arrivals?: { perSecond: number; forSeconds: number };
  /** The share of the limiter's rate the workers achieve (default 1). The lab's workers run a
   *  little below it (the API server, stalls, late slots): a plan that assumes the whole rate
   *  finds its backlog ending later than planned. */
  workerShare?: number;
  /** Called for each refresh run: the seconds it ran before its deadline (negative when late). */
  onRefresh?: (marginSeconds: number, second: number) => void;
  /** Only the items of one plan shard (sharding/plan-shard.ts), as that shard's owner plans them. */
  planShard?: { index: number; of: number };
  /** Called once the first plan is made (the bench measures the heap there). */
  onPlanned?: () => void;
  /** 'overdue' start: every item's routine job outlived the stop on the queue (default: half of them). */
  allRoutineJobsLeft?: boolean;
  /**
   * The leader's term ends at virtual second `at` (a renewal lost under load) and the next starts
   * `gapSeconds` later: in between the workers run the queue and nobody plans; then a new planner,
   * with no memory but the jobs it finds on the queue, adopts them and plans every item from its
   * state, as a new term's first pass does (session.ts).
   */
  termRestarts?: ReadonlyArray<{ at: number; gapSeconds: number }>;
  /** Every this many seconds every job still to come is placed anew (Planner.replaceWhere), as when a plan shard's budget moves. */
  replaceEverySeconds?: number;
}

export interface SimulationResult {
  /** Provider calls per virtual second. */
  calls: number[];
  /**
   * Per virtual second, the most of its calls planned for one instant. A slot's jobs are planned
   * at their places in the second, at the limiter's spacing (CapacityPlacement's at()); jobs
   * planned for one instant reach the workers' limiter together, which admits them one spacing
   * apart and defers those past its wait to the queue again: in the lab they run a second or
   * more later, on top of that second's own (the lab's recovery, a 30 s interval: 9–12 refreshes
   * a second planned at the second's first instant; peaks of 13–14 calls against a plan of 12).
   */
  piled: number[];
  /** Refreshes that ran after their deadline. */
  late: number;
  /** Refreshes that ran (with a deadline). */
  refreshes: number;
  /** The last second an item from the initial burst (or an arrival) synced for the first time since T0. */
  burstEnd: number;
  /** Jobs planned into a second already dispatched (they would run late). */
  lost: number;
  /** Items that did not sync within the last interval of the run. */
  stale: number;
  /** Items this run planned (the fleet, or its plan shard's part). */
  items: number;
  /** Wall-clock milliseconds the first plan of every item took (planner.observeAll at T0). */
  planMs: number;
}

export function fleetItem(i: number, intervalS: number, state: Partial<PlanItem> = {}): PlanItem {
  return {
    uid: `uid-${i}`,
    namespace: 'ns',
    name: `es-${i}`,
    generation: 1,
    shard: 'default',
    providerKey: PROVIDER_KEY,
    providerType: 'aws-sm',
    cost: 1,
    calls: [{ operation: 'GetSecretValue', calls: 1 }],
    refresh: { policy: 'periodic', intervalMs: intervalS * 1000 },
    storeRef: 'SecretStore/ns/store',
    storeVersion: '1',
    ...state,
  };
}

interface QueuedJob {
  id: string;
  second: number;
  /** The planned instant (epoch ms): the workers take a slot's jobs at their places in it. */
  plannedAt: number;
  deadline: number | undefined;
  reason: SyncReason;
  /** The planned job, for a new term to adopt. */
  job: PlannedSync;
}

/** Runs the fleet for `seconds` virtual seconds from VIRTUAL_T0. */
export function simulateFleet(fleet: VirtualFleet, start: FleetStart, seconds: number, opts: SimulationOptions = {}): SimulationResult {
  const T0 = VIRTUAL_T0;
  const arrivals = opts.arrivals ?? { perSecond: 0, forSeconds: 0 };
  const newPlanner = (): Planner => new Planner({ placement: new CapacityPlacement({ budgets: parseBudgets(`aws-sm=${fleet.budgetRps}`), respreadFraction: opts.respreadFraction ?? 1 }) });
  let planner = newPlanner();
  const restarts = opts.termRestarts ?? [];
  const leaderless = (k: number): boolean => restarts.some((r) => k >= r.at && k < r.at + r.gapSeconds);
  const items = new Map<string, PlanItem>();
  const synced = { ready: { status: 'True' as const, reason: 'SecretSynced' } };
  const inShard = (i: number): boolean => !opts.planShard || planShardOf('ns', `es-${i}`, opts.planShard.of) === opts.planShard.index;
  for (let i = 0; i < fleet.count; i++) {
    if (!inShard(i)) continue;
    let state: Partial<PlanItem> = {};
    if (start === 'overdue') {
      state = { syncedGeneration: 1, lastSyncMs: T0 - (2 + (i % fleet.intervalS) / fleet.intervalS) * fleet.intervalS * 1000, ...synced };
    } else if (start === 'steady') {
      const last = T0 - Math.floor(((i + 0.5) / fleet.count) * fleet.intervalS * 1000);
      state = { syncedGeneration: 1, lastSyncMs: last, lastAttemptMs: last, ...synced };
    }
    const it = fleetItem(i, fleet.intervalS, state);
    items.set(it.uid, it);
  }
  // The queue: one job per item, as the planner's changes leave it (BullMQ with deterministic ids).
  const queue = new Map<string, QueuedJob>();
  const t0s = T0 / 1000;
  let now = t0s;
  // Jobs by planned second (stale entries are skipped when their id is no longer the queued one).
  const bySecond = new Map<number, Array<{ uid: string; id: string }>>();
  const index = (uid: string, id: string, second: number): void => {
    let list = bySecond.get(second);
    if (!list) bySecond.set(second, (list = []));
    list.push({ uid, id });
  };
  /** Due jobs per lane priority, in planned order (a read position per lane: no O(n) shifts). */
  const ready = new Map<number, { list: Array<{ uid: string; id: string }>; at: number }>();
  let lost = 0;
  const apply = (changes: Array<PlanChange | undefined>, dispatched = true): void => {
    for (const c of changes) {
      if (!c) continue;
      for (const old of c.cancel) if (queue.get(old.uid)?.id === old.id) queue.delete(old.uid);
      if (c.add) {
        const second = Math.floor(c.add.plannedAt / 1000);
        // The current second has been dispatched already: a job planned into it would run late.
        if ((dispatched ? second <= now : second < now) && now > t0s) lost++;
        queue.set(c.uid, { id: c.add.id, second, plannedAt: c.add.plannedAt, deadline: c.add.deadline, reason: c.add.reason, job: c.add });
        index(c.uid, c.add.id, second);
      }
    }
  };
  if (start === 'overdue') {
    // The queue outlived the controller: half the fleet still has the routine job planned
    // before the stop, now long past its deadline; the new leader adopts it.
    for (const it of items.values()) {
      if (!opts.allRoutineJobsLeft && Number(it.uid.slice(4)) % 2 === 1) continue;
      const deadline = (it.lastSyncMs as number) + fleet.intervalS * 1000;
      const job = { id: `old-${it.uid}`, uid: it.uid, namespace: it.namespace, name: it.name, generation: 1, reason: 'refresh' as const, plannedAt: deadline - 2000, deadline, providerKey: PROVIDER_KEY, shard: 'default', cost: 1 };
      apply([planner.adopt(job)]);
      queue.set(it.uid, { id: job.id, second: Math.floor(job.plannedAt / 1000), plannedAt: job.plannedAt, deadline: undefined, reason: 'refresh', job });
      index(it.uid, job.id, Math.floor(job.plannedAt / 1000));
    }
  }
  const planStart = process.hrtime.bigint();
  apply(planner.observeAll(items.values(), T0));
  const planMs = Number(process.hrtime.bigint() - planStart) / 1e6;
  opts.onPlanned?.();
  const calls: number[] = [];
  const piled: number[] = [];
  const rate = sustainedRpsOf(fleet.budgetRps) * (opts.workerShare ?? 1);
  const admitted = (k: number): number => Math.floor(k * rate + 1e-9);
  const routineAdmitted = (k: number): number => Math.floor(k * rate * routineShareOf() + 1e-9);
  let late = 0;
  let refreshes = 0;
  let burstEnd = 0;
  for (let k = 0; k < seconds; k++) {
    const s = t0s + k;
    now = s;
    if (restarts.some((r) => k === r.at + r.gapSeconds)) {
      // A new term: the queue's jobs adopted (as the queue holds them: without their calls by
      // operation), then every item planned from its state.
      planner = newPlanner();
      for (const q of queue.values()) {
        const { calls: _calls, ...job } = q.job;
        apply([planner.adopt(job)], false);
      }
      apply(planner.observeAll(items.values(), s * 1000), false);
    }
    if (opts.replaceEverySeconds && k > 0 && k % opts.replaceEverySeconds === 0 && !leaderless(k)) apply(planner.replaceWhere(() => true, s * 1000), false);
    // New ExternalSecrets created this second (before the second's jobs are taken).
    for (let n = 0; k < arrivals.forSeconds && n < arrivals.perSecond; n++) {
      if (!inShard(fleet.count + k * arrivals.perSecond + n)) continue;
      const created = fleetItem(fleet.count + k * arrivals.perSecond + n, fleet.intervalS);
      items.set(created.uid, created);
      if (!leaderless(k)) apply(planner.observeAll([created], s * 1000), false);
    }
    // The leader moves re-spread refreshes out of a backlog that outlasted them (once a second).
    if (!leaderless(k)) apply(planner.rebalance(s * 1000), false);
    // The workers take due jobs by lane, then planned time, at most what their limiter admits on
    // the budget (a fractional rate: the calls due by the second's end less those due by its start).
    const due = k === 0 ? [...bySecond.keys()].filter((x) => x <= s).sort((a, b) => a - b) : [s];
    for (const sec of due) {
      for (const e of bySecond.get(sec) ?? []) {
        const j = queue.get(e.uid);
        if (j?.id !== e.id) continue;
        const lane = LANE_PRIORITY[j.reason];
        let r = ready.get(lane);
        if (!r) ready.set(lane, (r = { list: [], at: 0 }));
        r.list.push(e);
      }
      bySecond.delete(sec);
    }
    const running: Array<[string, QueuedJob]> = [];
    const taken = new Set<string>();
    const allowance = admitted(k + 1) - admitted(k);
    const routineLane = LANE_PRIORITY.refresh;
    for (const lane of [...ready.keys()].sort((a, b) => a - b)) {
      const r = ready.get(lane) as { list: Array<{ uid: string; id: string }>; at: number };
      // Routine refreshes also within the routine share (the rest of the second is the other lanes').
      const laneAllowance = lane === routineLane ? Math.min(allowance, running.length + routineAdmitted(k + 1) - routineAdmitted(k)) : allowance;
      while (r.at < r.list.length && running.length < laneAllowance) {
        const e = r.list[r.at++] as { uid: string; id: string };
        const j = queue.get(e.uid);
        // A job placed anew back into a second it had left has two entries there: it runs once.
        if (j?.id === e.id && !taken.has(e.uid)) {
          taken.add(e.uid);
          running.push([e.uid, j]);
        }
      }
      if (r.at > 4096 && r.at * 2 > r.list.length) {
        r.list = r.list.slice(r.at);
        r.at = 0;
      }
    }
    calls.push(running.length);
    const atInstant = new Map<number, number>();
    for (const [, job] of running) atInstant.set(job.plannedAt, (atInstant.get(job.plannedAt) ?? 0) + 1);
    piled.push(Math.max(0, ...atInstant.values()));
    for (const [uid, job] of running) {
      queue.delete(uid);
      if (job.reason === 'refresh' && job.deadline !== undefined) {
        refreshes++;
        if (s * 1000 > job.deadline + 999) late++;
        opts.onRefresh?.(Math.floor(job.deadline / 1000) - s, k);
      }
      const before = items.get(uid) as PlanItem;
      if (before.lastSyncMs === undefined || before.lastSyncMs < T0) burstEnd = k;
      // The worker's status: synced now (refreshTime has one-second precision).
      // Ready turns True at an item's first sync and keeps its lastTransitionTime after.
      const readySinceMs = before.ready?.status === 'True' ? before.readySinceMs : s * 1000;
      const after: PlanItem = { ...before, syncedGeneration: 1, lastSyncMs: s * 1000, lastAttemptMs: s * 1000, ready: { status: 'True', reason: 'SecretSynced' }, ...(readySinceMs !== undefined ? { readySinceMs } : {}) };
      items.set(uid, after);
      if (!leaderless(k)) apply([planner.observe(after, s * 1000 + 500)]);
    }
  }
  // Every item has synced within the last interval: none was lost or left behind.
  let stale = 0;
  for (const i of items.values()) if ((i.lastSyncMs ?? 0) < (t0s + seconds) * 1000 - (fleet.intervalS + 1) * 1000) stale++;
  return { calls, piled, late, refreshes, burstEnd, lost, stale, items: items.size, planMs };
}

/** Peak and mean of the calls per second over `length` seconds after `from`. */
export function peakAndMean(calls: readonly number[], from: number, length: number): { peak: number; mean: number } {
  const window = calls.slice(from + 1, from + 1 + length);
  return { peak: Math.max(...window), mean: window.reduce((a, b) => a + b, 0) / window.length };
}
