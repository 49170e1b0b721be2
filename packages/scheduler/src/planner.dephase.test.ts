// The planner over time, in virtual seconds: a fleet that synced in one burst (a mass creation,
// or a recovery after downtime) must not stay in phase. Every job runs in its planned second,
// or later when the workers' limiter (the budget per second) makes it wait, and reports back as
// the worker's status would; the per-second calls of the interval after the
// burst are then as flat as the fleet allows (peak/mean ≤ 1.2), and no refresh is late. The
// limiter admits what the real one does on the budget (sustainedRpsOf, below the budget), and
// new ExternalSecrets may keep arriving during the burst (they preempt the catch-up).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBudgets } from './budgets.js';
import { CapacityPlacement } from './capacity-placement.js';
import type { PlanItem } from './plan-item.js';
import { FIXTURE_PROVIDER_KEY, planItem } from './plan-item.fixture.js';
import { LANE_PRIORITY, Planner, type PlanChange } from './planner.js';
import { sustainedRpsOf, type SyncReason } from '@herdless/core';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const KEY = FIXTURE_PROVIDER_KEY;

interface Fleet {
  count: number;
  intervalS: number;
  budgetRps: number;
}

function item(i: number, intervalS: number, state: Partial<PlanItem>): PlanItem {
  return planItem(i, { refresh: { policy: 'periodic', intervalMs: intervalS * 1000 }, ...state });
}

/**
 * Runs the fleet for `seconds` virtual seconds from T0: `start` says how each item looks when the
 * leader starts. Returns the calls per second and the refreshes that ran after their deadline.
 */
function simulate(
  fleet: Fleet,
  start: 'created' | 'overdue',
  respreadFraction: number,
  seconds: number,
  arrivals: { perSecond: number; forSeconds: number } = { perSecond: 0, forSeconds: 0 },
): { calls: number[]; late: number; burstEnd: number; lost: number; stale: number } {
  const placement = new CapacityPlacement({ budgets: parseBudgets(`aws-sm=${fleet.budgetRps}`), respreadFraction });
  const planner = new Planner({ placement });
  const items = new Map<string, PlanItem>();
  for (let i = 0; i < fleet.count; i++) {
    const state: Partial<PlanItem> =
      start === 'created'
        ? {}
        : // Synced once, then the controller was down for two intervals (phases spread over one interval).
          { syncedGeneration: 1, lastSyncMs: T0 - (2 + (i % fleet.intervalS) / fleet.intervalS) * fleet.intervalS * 1000, ready: { status: 'True', reason: 'SecretSynced' } };
    const it = item(i, fleet.intervalS, state);
    items.set(it.uid, it);
  }
  // The queue: one job per item, as the planner's changes leave it (BullMQ with deterministic ids).
  const queue = new Map<string, { id: string; second: number; deadline: number | undefined; reason: SyncReason }>();
  const t0s = T0 / 1000;
  let now = t0s;
  // Jobs by planned second (stale entries are skipped when their id is no longer the queued one).
  const bySecond = new Map<number, Array<{ uid: string; id: string }>>();
  const index = (uid: string, id: string, second: number): void => {
    const list = bySecond.get(second) ?? [];
    list.push({ uid, id });
    bySecond.set(second, list);
  };
  /** Due jobs per lane priority, in planned order. */
  const ready = new Map<number, Array<{ uid: string; id: string }>>();
  let lost = 0;
  const apply = (changes: Array<PlanChange | undefined>, dispatched = true): void => {
    for (const c of changes) {
      if (!c) continue;
      for (const old of c.cancel) if (queue.get(old.uid)?.id === old.id) queue.delete(old.uid);
      if (c.add) {
        const second = Math.floor(c.add.plannedAt / 1000);
        // The current second has been dispatched already: a job planned into it would run late.
        if ((dispatched ? second <= now : second < now) && now > t0s) lost++;
        queue.set(c.uid, { id: c.add.id, second, deadline: c.add.deadline, reason: c.add.reason });
        index(c.uid, c.add.id, second);
      }
    }
  };
  if (start === 'overdue') {
    // The queue outlived the controller: half the fleet still has the routine job planned
    // before the stop, now long past its deadline; the new leader adopts it.
    for (const it of items.values()) {
      if (Number(it.uid.slice(4)) % 2 === 1) continue;
      const deadline = (it.lastSyncMs as number) + fleet.intervalS * 1000;
      const job = { id: `old-${it.uid}`, uid: it.uid, namespace: it.namespace, name: it.name, generation: 1, reason: 'refresh' as const, plannedAt: deadline - 2000, deadline, providerKey: KEY, shard: 'default', cost: 1 };
      apply([planner.adopt(job)]);
      queue.set(it.uid, { id: job.id, second: Math.floor(job.plannedAt / 1000), deadline: undefined, reason: 'refresh' });
      index(it.uid, job.id, Math.floor(job.plannedAt / 1000));
    }
  }
  apply(planner.observeAll(items.values(), T0));
  const calls: number[] = [];
  const admitted = (k: number): number => Math.floor(k * sustainedRpsOf(fleet.budgetRps) + 1e-9);
  let late = 0;
  let burstEnd = 0;
  for (let k = 0; k < seconds; k++) {
    const s = t0s + k;
    now = s;
    // New ExternalSecrets created this second (before the second's jobs are taken).
    for (let n = 0; k < arrivals.forSeconds && n < arrivals.perSecond; n++) {
      const created = item(fleet.count + k * arrivals.perSecond + n, fleet.intervalS, {});
      items.set(created.uid, created);
      apply([planner.observe(created, s * 1000)], false);
    }
    // The workers take due jobs by lane, then planned time, at most what their limiter admits on
    // the budget (a fractional rate: the calls due by the second's end less those due by its start).
    const seconds = k === 0 ? [...bySecond.keys()].filter((x) => x <= s).sort((a, b) => a - b) : [s];
    for (const sec of seconds) {
      for (const e of bySecond.get(sec) ?? []) {
        const j = queue.get(e.uid);
        if (j?.id !== e.id) continue;
        const lane = LANE_PRIORITY[j.reason];
        ready.set(lane, [...(ready.get(lane) ?? []), e]);
      }
      bySecond.delete(sec);
    }
    const due: Array<[string, { id: string; second: number; deadline: number | undefined; reason: SyncReason }]> = [];
    for (const lane of [...ready.keys()].sort((a, b) => a - b)) {
      const list = ready.get(lane) ?? [];
      while (list.length > 0 && due.length < admitted(k + 1) - admitted(k)) {
        const e = list.shift() as { uid: string; id: string };
        const j = queue.get(e.uid);
        if (j?.id === e.id) due.push([e.uid, j]);
      }
    }
    calls.push(due.length);
    for (const [uid, job] of due) {
      queue.delete(uid);
      if (job.reason === 'refresh' && job.deadline !== undefined && s * 1000 > job.deadline + 999) late++;
      const before = items.get(uid) as PlanItem;
      if (before.lastSyncMs === undefined || before.lastSyncMs < T0) burstEnd = k;
      // The worker's status: synced now (refreshTime has one-second precision).
      const after: PlanItem = { ...before, syncedGeneration: 1, lastSyncMs: s * 1000, lastAttemptMs: s * 1000, ready: { status: 'True', reason: 'SecretSynced' } };
      items.set(uid, after);
      apply([planner.observe(after, s * 1000 + 500)]);
    }
  }
  // Every item has synced within the last interval: none was lost or left behind.
  const stale = [...items.values()].filter((i) => (i.lastSyncMs ?? 0) < (t0s + seconds) * 1000 - (fleet.intervalS + 1) * 1000).length;
  return { calls, late, burstEnd, lost, stale };
}

/** Peak and mean of the calls per second over the interval that follows the burst. */
function interval(calls: number[], from: number, length: number): { peak: number; mean: number } {
  const window = calls.slice(from + 1, from + 1 + length);
  return { peak: Math.max(...window), mean: window.reduce((a, b) => a + b, 0) / window.length };
}

const fleetArb = fc.record({
  count: fc.integer({ min: 1_500, max: 6_000 }),
  intervalS: fc.constantFrom(300, 600),
  budgetRps: fc.integer({ min: 20, max: 60 }),
});

describe('the planner de-phases a burst (virtual time)', () => {
  for (const start of ['created', 'overdue'] as const) {
    it(`after a ${start === 'created' ? 'mass creation' : 'recovery from 2 intervals down'}, the next interval is flat and nothing is late`, () => {
      fc.assert(
        fc.property(
          // The fleet fits the routine share with room to spare (demand ≤ 60 % of the budget), and
          // its mean is at least 5 calls a second: below that, one call more in a second is
          // already over 1.2 × the mean, whatever the plan.
          fleetArb.filter((f) => f.count / f.intervalS <= 0.6 * f.budgetRps && f.count / f.intervalS >= 5),
          // New ExternalSecrets created during a recovery, as the lab's recovery storm does.
          fc.integer({ min: 0, max: start === 'overdue' ? 2 : 0 }),
          (fleet, newPerSecond) => {
            const burstSeconds = Math.ceil(fleet.count / fleet.budgetRps);
            const arrivals = { perSecond: newPerSecond, forSeconds: burstSeconds };
            const { calls, late, burstEnd, lost, stale } = simulate(fleet, start, 1, 3 * fleet.intervalS + 2 * burstSeconds, arrivals);
            expect({ lost, stale }).toEqual({ lost: 0, stale: 0 });
            const { peak, mean } = interval(calls, burstEnd, fleet.intervalS);
            expect(mean).toBeGreaterThan(0.9 * (fleet.count / fleet.intervalS));
            expect(peak / mean).toBeLessThanOrEqual(1.2);
            expect(late).toBe(0);
          },
        ),
        { numRuns: 8 },
      );
    }, 120_000);
  }

  it('without the re-spread (the refresh window alone), the burst stays in phase', () => {
    const fleet = { count: 3_000, intervalS: 300, budgetRps: 50 };
    const { calls, burstEnd } = simulate(fleet, 'overdue', 0.1, 3 * fleet.intervalS + 100);
    const { peak, mean } = interval(calls, burstEnd, fleet.intervalS);
    expect(peak / mean).toBeGreaterThan(2);
  });
});
