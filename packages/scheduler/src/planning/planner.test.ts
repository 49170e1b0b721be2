import { describe, expect, it, vi } from 'vitest';
import { parseBudgets, RETRY_CLASS_OF, syncJobId } from '@herdless/core';
import { CapacityPlacement } from './placement/capacity-placement.js';
import { fleetItem } from '../simulation/virtual-fleet.js';
import { decideIntent } from './intent.js';
import type { PlannedSync } from './plan.js';
import { Planner } from './planner.js';
import { retryDelayMs } from './retry-backoff.js';
import type { PlanItem } from './plan-item.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const HOUR = 3_600_000;

function item(over: Partial<PlanItem> = {}): PlanItem {
  return {
    uid: 'uid-1',
    namespace: 'ns',
    name: 'es',
    generation: 1,
    shard: 'default',
    providerKey: 'aws-sm|us-east-1|default|',
    providerType: 'aws-sm',
    cost: 1,
    calls: [{ operation: 'GetSecretValue', calls: 1 }],
    refresh: { policy: 'periodic', intervalMs: HOUR },
    storeRef: 'SecretStore/ns/store',
    storeVersion: '10',
    ...over,
  };
}

const synced = (over: Partial<PlanItem> = {}): PlanItem =>
  item({ syncedGeneration: 1, lastSyncMs: T0 - 10 * 60_000, lastAttemptMs: T0 - 10 * 60_000, ready: { status: 'True', reason: 'SecretSynced' }, ...over });

describe('planner (walking skeleton)', () => {
  it('a never-synced ExternalSecret syncs now in the new lane', () => {
    const change = new Planner().observe(item(), T0);
    expect(change?.add).toMatchObject({ reason: 'new', plannedAt: T0, generation: 1 });
    expect(change?.add?.id).toBe(syncJobId({ uid: 'uid-1', generation: 1, plannedAt: T0, reason: 'new' }));
  });

  it('a spec change syncs now in the changed lane and replaces a pending refresh', () => {
    const p = new Planner();
    const first = p.observe(synced(), T0)?.add as PlannedSync;
    expect(first).toMatchObject({ reason: 'refresh', plannedAt: T0 + 50 * 60_000, deadline: T0 + 50 * 60_000 });
    const change = p.observe(synced({ generation: 2 }), T0 + 1000);
    expect(change?.add).toMatchObject({ reason: 'changed', generation: 2, plannedAt: T0 + 1000 });
    expect(change?.cancel).toEqual([first]);
  });

  it('observing the same state twice plans nothing new', () => {
    const p = new Planner();
    expect(p.observe(item(), T0)?.add).toBeDefined();
    expect(p.observe(item(), T0 + 5000)).toBeUndefined();
    expect(p.observe(synced(), T0)?.add?.reason).toBe('refresh');
    expect(p.observe(synced(), T0 + 5000)).toBeUndefined();
  });

  it('a refresh already past its deadline is overdue and runs now', () => {
    const change = new Planner().observe(synced({ lastSyncMs: T0 - 2 * HOUR }), T0);
    expect(change?.add).toMatchObject({ reason: 'overdue', plannedAt: T0, deadline: T0 - HOUR });
  });

  it('refreshInterval 0, OnChange and CreatedOnce have no periodic refresh', () => {
    for (const refresh of [{ policy: 'on-change' }, { policy: 'created-once' }] as const) {
      const p = new Planner();
      expect(p.observe(synced({ refresh }), T0)).toBeUndefined();
      expect(p.intentOf('uid-1')).toEqual({ kind: 'wait', why: 'no-periodic-refresh' });
    }
  });

  it('OnChange syncs a spec change; CreatedOnce does not', () => {
    expect(new Planner().observe(synced({ refresh: { policy: 'on-change' }, generation: 2 }), T0)?.add?.reason).toBe('changed');
    expect(new Planner().observe(synced({ refresh: { policy: 'created-once' }, generation: 2 }), T0)).toBeUndefined();
  });

  it('an unparsable refreshInterval gets one sync, then waits', () => {
    const p = new Planner();
    const first = p.observe(item({ refresh: { policy: 'invalid' } }), T0)?.add as PlannedSync;
    expect(first.reason).toBe('new');
    const failed = item({ refresh: { policy: 'invalid' }, lastAttemptMs: T0 + 1000, failedAttempts: 1, ready: { status: 'False', reason: 'InvalidRefreshInterval' } });
    expect(p.observe(failed, T0 + 2000)).toEqual({ uid: 'uid-1', cancel: [first] });
    expect(p.observe(failed, T0 + 60_000)).toBeUndefined();
  });

  it('a new leader retries a first sync that failed with its backoff, not at once in the spec lane', () => {
    // A fresh planner (a new term) knows nothing of the attempt; the status says it failed.
    const failed = item({ lastAttemptMs: T0, failedAttempts: 1, ready: { status: 'False', reason: 'ProviderUnavailable' } });
    const change = new Planner().observe(failed, T0 + 1000);
    expect(change?.add?.reason).toBe('retry');
  });

  it('a terminal failure waits until the store changes, then syncs once', () => {
    const p = new Planner();
    p.observe(item(), T0);
    const failed = item({ lastAttemptMs: T0 + 1000, failedAttempts: 1, ready: { status: 'False', reason: 'RemoteKeyNotFound' } });
    p.observe(failed, T0 + 2000);
    expect(p.intentOf('uid-1')).toEqual({ kind: 'wait', why: 'terminal' });
    expect(p.observe(failed, T0 + HOUR * 5)).toBeUndefined();
    const fixed = p.observe({ ...failed, storeVersion: '11' }, T0 + HOUR * 5);
    expect(fixed?.add?.reason).toBe('changed');
    // The resync is still pending: another event does not cancel it.
    expect(p.observe({ ...failed, storeVersion: '11' }, T0 + HOUR * 5 + 10)).toBeUndefined();
  });

  it('a terminal failure with observedGeneration waits right after a failover (no memory)', () => {
    const failed = synced({ generation: 2, ready: { status: 'False', reason: 'TemplateError', observedGeneration: 2 } });
    expect(new Planner().observe(failed, T0)).toBeUndefined();
  });

  it('reads core\'s table: each terminal reason waits, each other failure retries', () => {
    for (const [reason, retry] of Object.entries(RETRY_CLASS_OF)) {
      const failed = synced({ generation: 2, lastAttemptMs: T0, failedAttempts: 1, ready: { status: 'False', reason, observedGeneration: 2 } });
      const intent = decideIntent(failed, {}, T0).intent;
      expect({ reason, intent: intent.kind === 'wait' ? intent.why : intent.reason }).toEqual({ reason, intent: retry === 'terminal' ? 'terminal' : 'retry' });
    }
  });

  it('a transient failure retries with capped, deterministic full-jitter backoff', () => {
    const failing = (n: number): PlanItem => synced({ lastAttemptMs: T0, failedAttempts: n, ready: { status: 'False', reason: 'ProviderUnavailable' } });
    const a = new Planner().observe(failing(1), T0)?.add as PlannedSync;
    const b = new Planner().observe(failing(1), T0)?.add as PlannedSync;
    expect(a.reason).toBe('retry');
    expect(a.id).toBe(b.id); // two leaders plan the same retry
    expect(a.plannedAt - T0).toBeLessThanOrEqual(5000);
    for (let n = 1; n < 30; n++) expect(retryDelayMs(failing(n), n)).toBeLessThanOrEqual(HOUR / 2);
    // A failing item costs a few calls per interval: the mean gap at the cap is a quarter interval or more.
    const gaps = Array.from({ length: 200 }, (_, i) => retryDelayMs({ uid: `u${i}`, refresh: { policy: 'periodic', intervalMs: HOUR } }, 20));
    expect(gaps.reduce((s, g) => s + g, 0) / gaps.length).toBeGreaterThan(HOUR / 5);
  });

  it('a retry that fails in its own second is retried again, never taken as served by itself', () => {
    // The status's times have whole seconds: a retry job run in the second it was planned, whose
    // next backoff is under a second, gave an intent its own (finished) job seemed to serve: the
    // ExternalSecret waited for a job that had already run (CI: 99 of 100 Ready after 90 s at
    // 10 % of reads failing).
    const p = new Planner({ retryDelay: () => 300 });
    const failed = (n: number, atMs: number): PlanItem => item({ lastAttemptMs: atMs, failedAttempts: n, ready: { status: 'False', reason: 'ProviderUnavailable' } });
    p.observe(item(), T0);
    const first = p.observe(failed(1, T0), T0 + 100)?.add as PlannedSync;
    expect(first).toMatchObject({ reason: 'retry' });
    // It runs and fails within the second it was planned for (the status says that second).
    const ranAt = Math.floor(first.plannedAt / 1000) * 1000;
    const second = p.observe(failed(2, ranAt), first.plannedAt + 200)?.add;
    expect(second?.reason).toBe('retry');
    expect(second?.id).not.toBe(first.id);
    expect(Math.floor((second as PlannedSync).plannedAt / 1000)).toBeGreaterThan(Math.floor(first.plannedAt / 1000));
  });

  it('a failure of an older generation does not block a spec change', () => {
    const p = new Planner();
    const change = p.observe(synced({ generation: 3, syncedGeneration: 1, ready: { status: 'False', reason: 'TemplateError', observedGeneration: 2 } }), T0);
    expect(change?.add?.reason).toBe('changed');
  });

  it('adopting queued jobs after a failover plans nothing twice', () => {
    const before = new Planner();
    const jobs = [before.observe(item({ uid: 'a' }), T0)?.add, before.observe(synced({ uid: 'b' }), T0)?.add] as PlannedSync[];
    const after = new Planner();
    for (const j of jobs) expect(after.adopt(j)).toBeUndefined();
    expect(after.observe(item({ uid: 'a' }), T0 + 7000)).toBeUndefined();
    expect(after.observe(synced({ uid: 'b' }), T0 + 7000)).toBeUndefined();
  });

  it('a routine job stranded on the queue while no leader ran is replaced by a catch-up job; a slightly late one stays', () => {
    const refresh = new Planner().observe(synced(), T0)?.add as PlannedSync; // due at T0 + 50 min
    // Back 20 s after its slot (a failover): it still serves.
    const soon = new Planner();
    soon.adopt(refresh);
    expect(soon.observe(synced(), refresh.plannedAt + 20_000)).toBeUndefined();
    // Back two hours later (the controller was down): a catch-up job in the overdue lane replaces it.
    const late = new Planner();
    late.adopt(refresh);
    const change = late.observe(synced(), T0 + 2 * HOUR);
    expect(change?.cancel).toEqual([refresh]);
    expect(change?.add).toMatchObject({ reason: 'overdue', deadline: refresh.deadline, plannedAt: T0 + 2 * HOUR });
  });

  it('on an interval shorter than a minute, a routine job more than one interval past its slot is replaced by a catch-up job', () => {
    // The lab's recovery: a 30 s interval, the controller down 60 s. Kept, the job would run in
    // the routine lane, which the workers' limiter holds to the routine share.
    const short = { refresh: { policy: 'periodic' as const, intervalMs: 30_000 }, lastSyncMs: T0 - 20_000, lastAttemptMs: T0 - 20_000 };
    const refresh = new Planner().observe(synced(short), T0)?.add as PlannedSync; // due by T0 + 10 s
    // 20 s past its slot, its deadline gone (a failover on this interval): it still serves.
    const soon = new Planner();
    soon.adopt(refresh);
    expect(soon.observe(synced(short), refresh.plannedAt + 20_000)).toBeUndefined();
    // 40 s past its slot: it missed a whole refresh; a catch-up job in the overdue lane replaces it.
    const late = new Planner();
    late.adopt(refresh);
    const change = late.observe(synced(short), refresh.plannedAt + 40_000);
    expect(change?.cancel).toEqual([refresh]);
    expect(change?.add).toMatchObject({ reason: 'overdue', deadline: refresh.deadline });
  });

  it('the refresh after an off-plan sync may go anywhere before its deadline; after a routine one it keeps its window', () => {
    const p = new Planner();
    p.observe(item(), T0);
    // The new-lane sync ran: its refresh is re-spread.
    p.observe(synced({ lastSyncMs: T0 + 1000 }), T0 + 1500);
    expect(p.intentOf('uid-1')).toMatchObject({ reason: 'refresh', respread: true });
    // The refresh ran in its slot: the next one is routine.
    const planned = p.planned('uid-1') as PlannedSync;
    p.observe(synced({ lastSyncMs: planned.plannedAt }), planned.plannedAt + 500);
    expect(p.intentOf('uid-1')).not.toHaveProperty('respread');
  });

  it('a duplicate on the queue is removed on adoption, keeping the spec lane', () => {
    const p = new Planner();
    const refresh = new Planner().observe(synced(), T0)?.add as PlannedSync;
    const spec = new Planner().observe(synced({ generation: 2 }), T0)?.add as PlannedSync;
    expect(p.adopt(refresh)).toBeUndefined();
    expect(p.adopt(spec)).toEqual({ uid: 'uid-1', cancel: [refresh] });
  });

  it('a deleted ExternalSecret cancels its pending job', () => {
    const p = new Planner();
    const job = p.observe(synced(), T0)?.add;
    expect(p.forget('uid-1')).toEqual({ uid: 'uid-1', cancel: [job] });
  });

  it('decideIntent leaves its input memory alone', () => {
    const memory = {};
    decideIntent(synced({ ready: { status: 'False', reason: 'AccessDenied' } }), memory, T0);
    expect(memory).toEqual({});
  });
});

describe('refreshes planned late', () => {
  it('are placed again before their deadline once the budget they were placed on grows (a plan shard whose share was cut)', () => {
    let share = 0.2;
    const placement = new CapacityPlacement({ budgets: parseBudgets('aws-sm=10'), budgetShare: (_key, _operation, budgetRps) => budgetRps * share });
    const planner = new Planner({ placement });
    const t0 = Date.parse('2030-01-01T00:00:00Z');
    // 60 refreshes due 50 s from now, each in its window of the last 10 s before it: a share of
    // 2/s has room for 17 of them, the whole budget for about 80.
    const items = Array.from({ length: 60 }, (_, i) =>
      fleetItem(i, 100, { syncedGeneration: 1, lastSyncMs: t0 - 50_000, lastAttemptMs: t0 - 50_000, ready: { status: 'True', reason: 'SecretSynced' } }),
    );
    planner.observeAll(items, t0);
    const late = () => [...planner.plannedJobs()].filter((j) => j.deadline !== undefined && j.plannedAt > j.deadline);
    const lateBefore = late().length;
    expect(lateBefore).toBeGreaterThan(30);
    // The share grows back; nothing else changes. The next rebalance tries them again.
    share = 1;
    const changes = planner.rebalance(t0 + 2_000);
    expect(late()).toEqual([]);
    expect(planner.movedEarlier).toBe(lateBefore);
    expect(changes.filter((c) => c.add && c.cancel.length === 1)).toHaveLength(lateBefore);
    for (const c of changes) expect(c.add?.plannedAt).toBeLessThanOrEqual(c.add?.deadline as number);
  });

  it('stay as they are, tried again later, when no earlier place has room (overload)', () => {
    const placement = new CapacityPlacement({ budgets: parseBudgets('aws-sm=2') });
    const planner = new Planner({ placement });
    const t0 = Date.parse('2030-01-01T00:00:00Z');
    const items = Array.from({ length: 100 }, (_, i) =>
      fleetItem(i, 100, { syncedGeneration: 1, lastSyncMs: t0 - 50_000, lastAttemptMs: t0 - 50_000, ready: { status: 'True', reason: 'SecretSynced' } }),
    );
    planner.observeAll(items, t0);
    const before = [...planner.plannedJobs()].map((j) => j.id).sort();
    const place = vi.spyOn(placement, 'place');
    expect(planner.rebalance(t0 + 2_000)).toEqual([]);
    expect([...planner.plannedJobs()].map((j) => j.id).sort()).toEqual(before);
    expect(planner.movedEarlier).toBe(0);
    expect(place.mock.calls.length).toBeGreaterThan(0);
    // Each is tried again only after its back-off (10 s), even when the try found its old second.
    place.mockClear();
    expect(planner.rebalance(t0 + 3_000)).toEqual([]);
    expect(planner.rebalance(t0 + 9_000)).toEqual([]);
    expect(place).not.toHaveBeenCalled();
  });
});
