// The planner's invariants, on random fleets (fast-check): no slot over budget (new specs may
// preempt catch-up work, nothing else); no refresh
// after its deadline while demand fits the budget; new specs always get their reserved share;
// a new leader re-planning from the queue never plans an item twice.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RESERVED_SHARE, parseBudgets, routineShareOf, supersededByTerm, sustainedRpsOf, syncJobId } from '@herdless/core';
import { CapacityPlacement } from './placement/capacity-placement.js';
import { budgetKeyOf } from './placement/slot-maths.js';
import type { PlanItem } from './plan-item.js';
import type { PlannedSync } from './plan.js';
import { Planner } from './planner.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const KEY = 'aws-sm|us-east-1|default|';
const INTERVALS = [60_000, 300_000, 600_000, 3_600_000];

type Kind = 'new' | 'changed' | 'refresh' | 'overdue' | 'retry' | 'terminal';

const itemArb = fc.record({
  kind: fc.constantFrom<Kind>('new', 'changed', 'refresh', 'refresh', 'overdue', 'retry', 'terminal'),
  interval: fc.constantFrom(...INTERVALS),
  /** Where in its interval the item is (fraction since its last sync; > 1 = overdue). */
  phase: fc.double({ min: 0, max: 3, noNaN: true }),
  cost: fc.integer({ min: 1, max: 3 }),
  attempts: fc.integer({ min: 1, max: 8 }),
});

function toItem(i: number, a: fc.RecordValue<{ kind: Kind; interval: number; phase: number; cost: number; attempts: number }> | { kind: Kind; interval: number; phase: number; cost: number; attempts: number }): PlanItem {
  const base: PlanItem = {
    uid: `uid-${i}`,
    namespace: 'ns',
    name: `es-${i}`,
    generation: 2,
    shard: 'default',
    providerKey: KEY,
    providerType: 'aws-sm',
    cost: a.cost,
    calls: [{ operation: 'GetSecretValue', calls: a.cost }],
    refresh: { policy: 'periodic', intervalMs: a.interval },
    storeRef: 'SecretStore/ns/store',
    storeVersion: '1',
  };
  const last = Math.round(T0 - a.phase * a.interval);
  const ok = { syncedGeneration: 2, lastSyncMs: last, lastAttemptMs: last, ready: { status: 'True' as const, reason: 'SecretSynced' } };
  switch (a.kind) {
    case 'new':
      return base;
    case 'changed':
      return { ...base, ...ok, syncedGeneration: 1 };
    case 'refresh':
      return { ...base, ...ok, lastSyncMs: Math.round(T0 - Math.min(a.phase, 0.95) * a.interval) };
    case 'overdue':
      return { ...base, ...ok, lastSyncMs: Math.round(T0 - (1 + a.phase) * a.interval) };
    case 'retry':
      return { ...base, ...ok, lastAttemptMs: T0 - 1000, failedAttempts: a.attempts, ready: { status: 'False', reason: 'ProviderUnavailable' } };
    case 'terminal':
      return { ...base, ...ok, lastAttemptMs: T0 - 1000, failedAttempts: 1, ready: { status: 'False', reason: 'AccessDenied', observedGeneration: 2 } };
  }
}

function planner(budgetRps: number, spreadFraction = 0.1): { planner: Planner; placement: CapacityPlacement } {
  const placement = new CapacityPlacement({ budgets: parseBudgets(`aws-sm=${budgetRps}`), spreadFraction });
  return { planner: new Planner({ placement }), placement };
}

function jobsBySlot(jobs: Iterable<PlannedSync>): Map<number, PlannedSync[]> {
  const m = new Map<number, PlannedSync[]>();
  for (const j of jobs) {
    const s = Math.floor(j.plannedAt / 1000);
    m.set(s, [...(m.get(s) ?? []), j]);
  }
  return m;
}

describe('planner invariants (property-based)', () => {
  it('no slot is planned over its budget, whatever the mix of lanes and the order of events', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { minLength: 1, maxLength: 300, size: 'max' }), fc.integer({ min: 1, max: 20 }), fc.boolean(), (arbs, budget, batch) => {
        const { planner: p, placement } = planner(budget);
        const items = arbs.map((a, i) => toItem(i, a));
        if (batch) p.observeAll(items, T0);
        else items.forEach((it, k) => p.observe(it, T0 + k * 37));
        const bySlot = jobsBySlot(p.plannedJobs());
        // New specs preempt catch-up work: a preempted catch-up job runs after them (the queue runs
        // specs first, the workers' limiter holds the budget), and the calendar moves its calls to
        // the first slot after with room, where nothing else is planned over them. So the jobs
        // other than catch-up fit the budget in the slot they are planned in, and the calendar's
        // load — catch-up where it will run — fits it in every slot.
        for (const [, jobs] of bySlot) {
          const withoutCatchUp = jobs.filter((j) => j.reason !== 'overdue');
          const load = withoutCatchUp.reduce((s, j) => s + j.cost, 0);
          // A sync bigger than a slot's budget runs alone in its slot.
          if (withoutCatchUp.length > 1) expect(load).toBeLessThanOrEqual(budget);
        }
        // Over the budget only as one sync bigger than it (alone in its slot, or displaced alone).
        const costs = new Set([...p.plannedJobs()].map((j) => j.cost));
        for (const [, load] of placement.calendar.slotsOf(budgetKeyOf(KEY, 'GetSecretValue')) ?? []) {
          if (load > budget) expect(costs).toContain(load);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('no refresh is planned after its deadline while demand fits the budget', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ interval: fc.constantFrom(...INTERVALS), phase: fc.double({ min: 0, max: 0.89, noNaN: true }) }), { minLength: 1, maxLength: 400, size: 'max' }),
        fc.integer({ min: 2, max: 12 }),
        (arbs, budget) => {
          // The routine share of the rate the workers' limiter admits, kept over time (slotCap).
          const rate = sustainedRpsOf(budget) * routineShareOf();
          const capOf = (lo: number, dl: number): number => Math.floor((dl + 1) * rate + 1e-9) - Math.floor(lo * rate + 1e-9);
          // Keep only a fleet whose demand fits: in every item's window, the refreshes due in it fit the routine share.
          const fleet: Array<{ lo: number; dl: number; item: PlanItem }> = [];
          arbs.forEach((a, i) => {
            const item = toItem(i, { kind: 'refresh', interval: a.interval, phase: a.phase, cost: 1, attempts: 1 });
            const deadline = (item.lastSyncMs as number) + a.interval;
            const dl = Math.floor(deadline / 1000);
            // Never the current second (that would be a second call right after the one just made).
            const lo = Math.max(Math.floor(T0 / 1000) + 1, dl - Math.floor((0.1 * a.interval) / 1000));
            const candidate = [...fleet, { lo, dl, item }];
            const fits = candidate.every((w) => candidate.filter((o) => o.dl >= w.lo && o.dl <= w.dl).length <= capOf(w.lo, w.dl));
            if (fits) fleet.push({ lo, dl, item });
          });
          const { planner: p } = planner(budget);
          const jobs = p.observeAll(fleet.map((f) => f.item), T0).map((c) => c.add as PlannedSync);
          for (const j of jobs) expect(j.plannedAt).toBeLessThanOrEqual(j.deadline as number);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('new and changed specs always get their reserved share, however loaded the other lanes are', () => {
    fc.assert(
      fc.property(
        fc.array(itemArb.filter((a) => a.kind !== 'new' && a.kind !== 'changed'), { maxLength: 400, size: 'max' }),
        fc.integer({ min: 2, max: 20 }),
        fc.integer({ min: 1, max: 60 }),
        (others, budget, newCount) => {
          const { planner: p } = planner(budget);
          p.observeAll(others.map((a, i) => toItem(i, { ...a, cost: 1 })), T0);
          // The other lanes plan at most 0.8 of the rate the workers' limiter admits, rounded per
          // second so the rate is kept over time (a slot may hold one call more than the rate, the
          // next one less): in any n seconds the specs keep more than n·reserve − 2 calls, so the
          // k-th new spec is planned within ceil((k + 1) / reserve) seconds.
          const reserve = sustainedRpsOf(budget) * DEFAULT_RESERVED_SHARE;
          for (let k = 1; k <= newCount; k++) {
            const change = p.observe(toItem(10_000 + k, { kind: 'new', interval: 60_000, phase: 0, cost: 1, attempts: 1 }), T0);
            const slot = Math.floor((change?.add?.plannedAt as number) / 1000) - T0 / 1000;
            expect(slot).toBeLessThanOrEqual(Math.ceil((k + 1) / reserve) - 1);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a routine job the workers drop as superseded by a term is one the leader of that term replaces', () => {
    let dropped = 0;
    fc.assert(
      fc.property(
        fc.record({
          interval: fc.constantFrom(...INTERVALS),
          /** The job's deadline, from the term's start (before it, mostly). */
          deadlineFromSince: fc.integer({ min: -3 * 3_600_000, max: 600_000 }),
          /** Its slot before the deadline, as a fraction of the interval (a routine window). */
          slotBefore: fc.double({ min: 0, max: 0.1, noNaN: true }),
          jobEpoch: fc.integer({ min: 0, max: 4 }),
          termEpoch: fc.integer({ min: 0, max: 4 }),
          /** When the leader plans, after the term began. */
          planningAfterMs: fc.integer({ min: 0, max: 60_000 }),
          state: fc.constantFrom('synced', 'changed', 'failing'),
        }),
        (a) => {
          const since = T0;
          const deadline = since + a.deadlineFromSince;
          const plannedAt = Math.round(deadline - a.slotBefore * a.interval);
          const synced = { ...toItem(1, { kind: 'refresh', interval: a.interval, phase: 0, cost: 1, attempts: 1 }), lastSyncMs: deadline - a.interval, lastAttemptMs: deadline - a.interval };
          const item: PlanItem =
            a.state === 'changed'
              ? { ...synced, syncedGeneration: 1 }
              : a.state === 'failing'
                ? { ...synced, lastAttemptMs: since - 1000, failedAttempts: 1, ready: { status: 'False', reason: 'ProviderUnavailable' } }
                : synced;
          const job: PlannedSync = {
            id: syncJobId({ uid: item.uid, generation: item.generation, plannedAt, reason: 'refresh' }),
            uid: item.uid,
            namespace: item.namespace,
            name: item.name,
            generation: item.generation,
            reason: 'refresh',
            plannedAt,
            deadline,
            providerKey: KEY,
            shard: 'default',
            cost: 1,
          };
          const { planner: p } = planner(10);
          p.adopt(job);
          p.observeAll([item], since + a.planningAfterMs);
          const kept = [...p.plannedJobs()].some((j) => j.id === job.id);
          if (supersededByTerm({ reason: 'refresh', epoch: a.jobEpoch, plannedAt, deadline }, { epoch: a.termEpoch, since })) {
            dropped++;
            expect(kept).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
    // Not vacuous: the workers' rule names some of these jobs.
    expect(dropped).toBeGreaterThan(30);
  });

  it('re-planning after a failover never plans an item twice', () => {
    fc.assert(
      fc.property(
        fc.array(itemArb, { minLength: 1, maxLength: 200, size: 'max' }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (arbs, budget, failoverAfterMs, duplicatePicks) => {
          const items = arbs.map((a, i) => toItem(i, a));
          const a = planner(budget).planner;
          a.observeAll(items, T0);
          const queued = [...a.plannedJobs()];
          // A deposed leader's late writes may have left a second job for some items.
          const stale = planner(budget).planner;
          stale.observeAll(items, T0 - 5000);
          const staleJobs = [...stale.plannedJobs()];
          const picked = duplicatePicks.map((n) => staleJobs[n % Math.max(1, staleJobs.length)]).filter((j): j is PlannedSync => j !== undefined && !queued.some((q) => q.id === j.id));
          const extra = [...new Map(picked.map((j) => [j.id, j])).values()];
          const b = planner(budget).planner;
          const removed: string[] = [];
          // Jobs come back from the queue without their operation mix (the payload has identity only).
          for (const job of [...queued, ...extra]) for (const c of b.adopt({ ...job, calls: undefined })?.cancel ?? []) removed.push(c.id);
          const changes = b.observeAll(items, T0 + failoverAfterMs);
          // Same state, later time: the new leader adds nothing — every item's job is already queued.
          expect(changes.filter((c) => c.add)).toEqual([]);
          // Exactly one job stays per item; each duplicate is removed once.
          const perUid = new Map<string, number>();
          for (const j of b.plannedJobs()) perUid.set(j.uid, (perUid.get(j.uid) ?? 0) + 1);
          expect([...perUid.values()].every((n) => n === 1)).toBe(true);
          expect(new Set(queued.map((j) => j.uid))).toEqual(new Set(perUid.keys()));
          expect(removed).toHaveLength(extra.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});

export { budgetKeyOf };
