import { describe, expect, it } from 'vitest';
import { parseBudgets, seededRandom, sustainedRpsOf } from '@herdless/core';
import { CapacityPlacement } from './capacity-placement.js';
import { EsoPlacement } from './eso-placement.js';
import { MAX_GRACE_SECONDS, budgetKeyOf, graceSecondsOf, slotCap } from './slot-maths.js';
import type { PlanItem } from '../plan-item.js';
import { FIXTURE_PROVIDER_KEY, planItem } from '../plan-item.fixture.js';
import type { PlannedSync } from '../plan.js';
import { Planner } from '../planner.js';
import { createPlanner } from '../policies.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const HOUR = 3_600_000;
const KEY = FIXTURE_PROVIDER_KEY;
const GSV = budgetKeyOf(KEY, 'GetSecretValue');

const item = planItem;
const synced = (i: number, lastSyncMs: number, over: Partial<PlanItem> = {}): PlanItem =>
  item(i, { syncedGeneration: 1, lastSyncMs, lastAttemptMs: lastSyncMs, ready: { status: 'True', reason: 'SecretSynced' }, ...over });

/** Per-second loads of `count` calls planned from `fromSec` at `rate`, each slot full (slotCap). */
function filled(rate: number, fromSec: number, count: number): number[] {
  const out: number[] = [];
  for (let s = fromSec, left = count; left > 0; s++) {
    const n = Math.min(left, slotCap(rate, s));
    out.push(n);
    left -= n;
  }
  return out;
}

function herdless(budgetRps = 10, over: Record<string, number> = {}): { planner: Planner; placement: CapacityPlacement } {
  const placement = new CapacityPlacement({ budgets: parseBudgets(`aws-sm=${budgetRps}`), ...over });
  return { planner: new Planner({ placement }), placement };
}

describe('capacity-aware placement', () => {
  it('a burst of new ExternalSecrets fills slots up to the limiter\'s rate on the budget, in order, from now', () => {
    const { planner, placement } = herdless(10);
    const jobs = planner.observeAll(Array.from({ length: 95 }, (_, i) => item(i)), T0).map((c) => c.add as PlannedSync);
    expect(jobs.every((j) => j.reason === 'new')).toBe(true);
    const perSecond = placement.calendar.entries(GSV);
    // 9.43 calls/s (10 rps less the limiter's arrival allowance): slots of 9 and 10.
    expect(perSecond.map(([, n]) => n)).toEqual(filled(sustainedRpsOf(10), T0 / 1000, 95));
    expect(perSecond.map(([, n]) => n)).toContain(9);
    expect(perSecond[0]?.[0]).toBe(T0 / 1000);
    // Within a second, jobs start one after the other at the limiter's spacing.
    const first = jobs.filter((j) => j.plannedAt < T0 + 1000).map((j) => j.plannedAt - T0);
    expect(first).toEqual([...first].sort((a, b) => a - b));
    expect(new Set(first).size).toBe(first.length);
    expect(first[first.length - 1]).toBeGreaterThan(800);
  });

  it('refreshes with one deadline are spread over the window before it, never after', () => {
    const { planner, placement } = herdless(10);
    const last = T0 - 30 * 60_000; // deadline in 30 min; window = 6 min before it
    const jobs = planner.observeAll(Array.from({ length: 1000 }, (_, i) => synced(i, last)), T0).map((c) => c.add as PlannedSync);
    const deadline = last + HOUR;
    expect(jobs.every((j) => j.plannedAt <= deadline && j.plannedAt >= deadline - 6 * 60_000)).toBe(true);
    // 1000 calls over 361 slots: flat (2 or 3 per slot), under the routine share (8/s).
    const loads = placement.calendar.entries(GSV).map(([, n]) => n);
    expect(Math.max(...loads)).toBeLessThanOrEqual(3);
  });

  it('a refresh re-spread after an off-plan sync keeps a margin before its deadline, the refreshes after it keep that margin, and use it only when the rest of the window is full', () => {
    const { planner } = herdless(10);
    // A new ExternalSecret syncs off-plan; its next refresh is re-spread over the interval (a
    // slot at random between equals), outside the grace (a fifth of the 6-min window, at most 30 s).
    const created = planner.observe(item(1), T0)?.add as PlannedSync;
    expect(created.reason).toBe('new');
    const first = planner.observe(synced(1, T0), T0 + 500)?.add as PlannedSync;
    expect((first.deadline as number) - first.plannedAt).toBeGreaterThanOrEqual(MAX_GRACE_SECONDS * 1000);
    // It runs in its slot: the routine refresh after it keeps the grace, in the latest slot
    // outside it (the calendar is empty: the later slot wins between equals).
    const second = planner.observe(synced(1, first.plannedAt), first.plannedAt + 500)?.add as PlannedSync;
    expect(second.reason).toBe('refresh');
    expect(second.deadline).toBe(first.plannedAt + HOUR);
    expect((second.deadline as number) - second.plannedAt).toBe(MAX_GRACE_SECONDS * 1000);
    // A plan rebuilt from nothing (no job known for the item) keeps the phase it finds: the
    // refresh takes its deadline's own second, as it did before.
    const rebuilt = herdless(10).planner.observe(synced(2, T0 - 30 * 60_000), T0)?.add as PlannedSync;
    expect(Math.floor((rebuilt.deadline as number) / 1000)).toBe(Math.floor(rebuilt.plannedAt / 1000));

    // A 36-slot window at 0.75 refreshes a second (budget 1): 7 grace seconds (a fifth of 36).
    const graceMs = graceSecondsOf(HOUR, 0.01) * 1000;
    expect(graceMs).toBe(7000);
    const tight = herdless(1, { spreadFraction: 0.01 });
    const last = T0 - 30 * 60_000;
    const deadline = last + HOUR;
    // Each refresh found on the queue kept 30 s before its deadline (adopted after a failover).
    for (let i = 0; i < 40; i++) {
      const id = `r${i}`;
      tight.planner.adopt({ id, uid: item(i).uid, namespace: 'ns', name: `es-${i}`, generation: 1, reason: 'refresh', plannedAt: last - 30_000, deadline: last, providerKey: KEY, shard: 'default', cost: 1 });
    }
    const jobs = tight.planner.observeAll(Array.from({ length: 40 }, (_, i) => synced(i, last)), T0).map((c) => c.add as PlannedSync);
    expect(jobs).toHaveLength(40);
    const inGrace = jobs.map((j, i) => ({ i, grace: j.plannedAt > deadline - graceMs && j.plannedAt <= deadline }));
    const firstGrace = inGrace.find((g) => g.grace)?.i;
    expect(firstGrace).toBeDefined();
    // Every refresh placed before the first one in the grace seconds took a slot before them,
    // and every slot before them is full by then.
    expect(jobs.slice(0, firstGrace).every((j) => j.plannedAt <= deadline - graceMs)).toBe(true);
    expect(firstGrace).toBe(jobs.filter((j) => j.plannedAt <= deadline - graceMs).length);
    // 29 slots before the grace at 0.75 a second.
    expect(jobs.slice(0, firstGrace).length).toBeGreaterThanOrEqual(21);
  });

  it('overload slips refreshes past their deadline in deadline order and counts them, dropping none', () => {
    const { planner, placement } = herdless(1, { spreadFraction: 0.01 }); // routine 0.8/s → 1 per slot… window 36 slots
    const last = T0 - 30 * 60_000;
    const items = Array.from({ length: 100 }, (_, i) => synced(i, last + i));
    const jobs = planner.observeAll(items, T0).map((c) => c.add as PlannedSync);
    expect(jobs).toHaveLength(100);
    const late = jobs.filter((j) => j.plannedAt > (j.deadline as number));
    expect(late.length).toBeGreaterThan(0);
    expect(placement.lateByProviderKey().get(KEY)).toBe(late.length);
    // Deadline order: a later deadline never runs before an earlier late one.
    const sorted = [...late].sort((a, b) => (a.deadline as number) - (b.deadline as number));
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.plannedAt).toBeGreaterThanOrEqual(sorted[i - 1]!.plannedAt);
    expect(Math.max(...placement.calendar.entries(GSV).map(([, n]) => n))).toBeLessThanOrEqual(1);
  });

  it('recovery releases overdue items earliest deadline first at the catch-up share, with new specs in the reserve', () => {
    const { planner, placement } = herdless(10);
    const overdue = Array.from({ length: 200 }, (_, i) => synced(i, T0 - 2 * HOUR - i * 1000));
    const fresh = Array.from({ length: 20 }, (_, i) => item(1000 + i));
    const jobs = planner.observeAll([...overdue, ...fresh], T0).map((c) => c.add as PlannedSync);
    const news = jobs.filter((j) => j.reason === 'new');
    const late = jobs.filter((j) => j.reason === 'overdue');
    expect(news.every((j) => j.plannedAt < T0 + 3000)).toBe(true);
    expect(Math.max(...placement.calendar.entries(GSV).map(([, n]) => n))).toBeLessThanOrEqual(10);
    // Earliest deadline first.
    const byDeadline = [...late].sort((a, b) => (a.deadline as number) - (b.deadline as number));
    for (let i = 1; i < byDeadline.length; i++) expect(byDeadline[i]!.plannedAt).toBeGreaterThanOrEqual(byDeadline[i - 1]!.plannedAt);
    // 20 new specs take the first 2 s; then 200 overdue at 8/s: 25 s.
    expect(Math.max(...late.map((j) => j.plannedAt)) - T0).toBeLessThanOrEqual(27_000);
  });

  it('catch-up uses the whole budget when no spec needs the reserve; a spec arriving later preempts it', () => {
    const { planner, placement } = herdless(10);
    const overdue = Array.from({ length: 100 }, (_, i) => synced(i, T0 - 2 * HOUR - i * 1000));
    const late = planner.observeAll(overdue, T0).map((c) => c.add as PlannedSync);
    // 100 overdue at the limiter's whole rate (9.43/s): 10.6 s, not the 13.3 s of the catch-up share alone.
    expect(Math.max(...late.map((j) => j.plannedAt)) - T0).toBeLessThan(11_000);
    expect(Math.max(...placement.calendar.entries(GSV).map(([, n]) => n))).toBe(10);
    // A new ExternalSecret 2 s later goes into the current slot, ahead of the catch-up.
    const spec = planner.observe(item(500), T0 + 2_000)?.add as PlannedSync;
    expect(spec).toMatchObject({ reason: 'new', plannedAt: T0 + 2_000 });
    // It displaces one catch-up sync, which the calendar now counts after the catch-up's end.
    const rate = sustainedRpsOf(10);
    expect(placement.catchUpLoad(GSV, (T0 + 2_000) / 1000)).toBe(slotCap(rate, (T0 + 2_000) / 1000) - 1);
    const lastCatchUp = Math.floor(Math.max(...late.map((j) => j.plannedAt)) / 1000);
    const after = placement.calendar.entries(GSV).filter(([s]) => s >= lastCatchUp);
    expect(after.reduce((n, [, c]) => n + c, 0)).toBe(late.filter((j) => Math.floor(j.plannedAt / 1000) >= lastCatchUp).length + 1);
    // A routine refresh never lands in a slot the catch-up fills.
    const refresh = planner.observe(synced(600, T0 - HOUR + 5_000), T0 + 2_000)?.add as PlannedSync;
    expect(refresh.plannedAt).toBeGreaterThanOrEqual(T0 + 10_000);
  });

  it('a catch-up sync bigger than a slot, displaced by a spec, is counted in the next empty slot', () => {
    const { planner, placement } = herdless(1);
    const big = (i: number): PlanItem => synced(i, T0 - 2 * HOUR, { cost: 2, calls: [{ operation: 'GetSecretValue', calls: 2 }] });
    const catchUp = planner.observe(big(1), T0)?.add as PlannedSync;
    expect(catchUp).toMatchObject({ reason: 'overdue', plannedAt: T0 });
    const spec = planner.observe(item(2), T0 + 100)?.add as PlannedSync;
    expect(Math.floor(spec.plannedAt / 1000)).toBe(T0 / 1000);
    // Not a week away (the horizon), where nothing would see it: the first slot with room for it alone.
    const loads = placement.calendar.entries(GSV).filter(([, n]) => n > 0);
    expect(loads.map(([, n]) => n).sort()).toEqual([1, 2]);
    const displacedTo = (loads.find(([, n]) => n === 2) as [number, number])[0];
    expect(displacedTo - T0 / 1000).toBeGreaterThan(0);
    expect(displacedTo - T0 / 1000).toBeLessThanOrEqual(3);
  });

  it('a re-spread refresh goes behind the specs still to run, and moves behind them when more arrive', () => {
    const { planner } = herdless(10);
    const interval = 600;
    const rate = sustainedRpsOf(10);
    // 100 new specs; the first 50 ran in the first 5 s.
    planner.observeAll(Array.from({ length: 100 }, (_, i) => item(i, { refresh: { policy: 'periodic', intervalMs: interval * 1000 } })), T0);
    const ran = (i: number): PlanItem => synced(i, T0 + 5_000, { refresh: { policy: 'periodic', intervalMs: interval * 1000 } });
    const refreshes = planner.observeAll(Array.from({ length: 50 }, (_, i) => ran(i)), T0 + 5_500).map((c) => c.add as PlannedSync);
    // Behind the 50 specs left, drained at the non-reserved share of the rate (a margin for workers below it).
    const clearAt = (pending: number, nowSec: number) => (nowSec + Math.ceil(pending / (rate * 0.8)) + 1) * 1000;
    expect(refreshes.every((j) => j.reason === 'refresh' && j.plannedAt >= clearAt(50, T0 / 1000 + 5))).toBe(true);
    // 3,000 more specs arrive: the backlog now ends about 400 s later. A second later, the
    // refreshes planned inside it move behind it (new ids, the old jobs cancelled); the others stay.
    planner.observeAll(Array.from({ length: 3000 }, (_, i) => item(1000 + i)), T0 + 6_000);
    const clear = clearAt(3050, T0 / 1000 + 6);
    const inside = refreshes.filter((j) => j.plannedAt < clear);
    expect(inside.length).toBeGreaterThan(10);
    expect(planner.rebalance(T0 + 6_500)).toHaveLength(inside.length); // the first pass of this planner
    for (const j of inside) expect(planner.planned(j.uid)?.plannedAt).toBeGreaterThanOrEqual(clear);
    const moved = planner.rebalance(T0 + 7_000);
    expect(moved).toEqual([]); // at most once a second
    const again = planner.rebalance(T0 + 7_500);
    expect(again).toEqual([]); // all are behind it now
    expect(planner.movedBehindBacklog).toBe(inside.length);
    for (const j of refreshes) {
      const now = planner.planned(j.uid) as PlannedSync;
      expect(now.plannedAt).toBeLessThanOrEqual(now.deadline as number);
      if (j.plannedAt >= clear) expect(now.id).toBe(j.id);
      else expect(now.id).not.toBe(j.id);
    }
    expect(clear).toBeLessThan(T0 + interval * 1000);
  });

  it("the key's budget is the operator's table whatever its items' stores say", () => {
    const { planner, placement } = herdless(10);
    planner.observeAll(Array.from({ length: 50 }, (_, i) => item(i)), T0);
    expect(placement.calendar.entries(GSV).map(([, n]) => n)).toEqual(filled(sustainedRpsOf(10), T0 / 1000, 50));
    expect(placement.budgetOf(KEY, 'GetSecretValue')).toBe(10);
  });

  it('eso requeues at exactly the interval, eso-jitter up to 10% later, both at 10 syncs/s', () => {
    const eso = new Planner({ placement: new EsoPlacement() });
    const jittered = new Planner({ placement: new EsoPlacement({ jitterFraction: 0.1, random: seededRandom(1) }) });
    const last = T0 - 30 * 60_000;
    const a = eso.observeAll(Array.from({ length: 30 }, (_, i) => synced(i, last)), T0).map((c) => c.add as PlannedSync);
    expect(a.filter((j) => j.plannedAt === last + HOUR)).toHaveLength(10);
    const b = jittered.observeAll(Array.from({ length: 30 }, (_, i) => synced(i, last)), T0).map((c) => c.add as PlannedSync);
    expect(b.every((j) => j.plannedAt >= last + HOUR && j.plannedAt <= last + HOUR + 0.1 * HOUR + 1000)).toBe(true);
    expect(b.some((j) => j.plannedAt > last + HOUR)).toBe(true);
  });

  it('createPlanner builds each policy from config', () => {
    const base = { seed: 7, budgets: 'aws-sm=5', targetUtilisation: 0.8, reservedShare: 0.2, spreadFraction: 0.1, retryBaseSeconds: 5, retryMaxSeconds: 3600 };
    expect(createPlanner({ ...base, policy: 'herdless' }).placement).toBeInstanceOf(CapacityPlacement);
    expect(createPlanner({ ...base, policy: 'eso' }).placement).toBeInstanceOf(EsoPlacement);
    expect(() => parseBudgets('aws-sm=fast')).toThrow(/aws-sm=50/);
    expect(parseBudgets('aws-sm.BatchGetSecretValue=3')['aws-sm']?.BatchGetSecretValue).toBe(3);
  });
});
