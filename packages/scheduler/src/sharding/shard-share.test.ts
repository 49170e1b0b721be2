// A plan shard's planner on its share of a budget: the placement plans on the share the record
// gives, and when the share moves the shard's jobs are placed anew within it. The Lease exchange
// itself runs against the real control plane in test/shard-budget-shares.test.ts.
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { createLogger, parseBudgets } from '@herdless/core';
import { describe, expect, it } from 'vitest';
import { CapacityPlacement } from '../planning/placement/capacity-placement.js';
import type { PlanChange, PlannedSync } from '../planning/plan.js';
import { Planner } from '../planning/planner.js';
import type { PlanItem } from '../planning/plan-item.js';
import { fleetItem } from '../simulation/virtual-fleet.js';
import { INITIAL_RECORD, type BudgetRecord } from './budget-agreement.js';
import { DEMAND_ANNOTATION, ShardBudgetExchange, ShardShare } from './shard-share.js';

const T0 = Date.UTC(2026, 0, 1);
const PROVIDER_KEY = fleetItem(0, 10).providerKey;
const KEY = `${PROVIDER_KEY}#GetSecretValue`;

/** Planned jobs per second, the busiest from the next second on (the current one may be running). */
const busiestSecond = (planner: Planner): number => {
  const perSecond = new Map<number, number>();
  for (const job of planner.plannedJobs()) if (job.plannedAt >= T0 + 1000) perSecond.set(Math.floor(job.plannedAt / 1000), (perSecond.get(Math.floor(job.plannedAt / 1000)) ?? 0) + 1);
  return Math.max(...perSecond.values());
};

describe("a plan shard's share of a budget", () => {
  it('plans on the floor before it reads the Leases, the equal split when they hold no record, and places its jobs anew within a smaller share once one settles', () => {
    const share = new ShardShare(0, 2, 0.2);
    expect(share.budgetShare(PROVIDER_KEY, 'GetSecretValue', 10)).toBe(1);
    share.apply(INITIAL_RECORD);
    const placement = new CapacityPlacement({ budgets: parseBudgets('aws-sm=10'), budgetShare: share.budgetShare });
    const planner = new Planner({ placement });
    const items = Array.from({ length: 40 }, (_, i) => fleetItem(i, 10));
    planner.observeAll(items, T0);
    expect(placement.budgetOf(PROVIDER_KEY, 'GetSecretValue')).toBe(5);
    expect(busiestSecond(planner)).toBeGreaterThan(2);
    const changes: PlanChange[] = [];
    share.attach((affected) => changes.push(...planner.replaceWhere(affected, T0)));
    // Shard 1 has 100× the demand: shard 0 keeps its floor (0.2 × 10 / 2) and a little.
    const record: BudgetRecord = { version: 1, settled: true, demands: { [KEY]: [0.1, 10] }, previous: {} };
    share.apply(record);
    expect(share.version).toBe(1);
    const shareRps = placement.budgetOf(PROVIDER_KEY, 'GetSecretValue');
    expect(shareRps).toBeCloseTo(1 + (8 * 0.1) / 10.1, 2);
    expect(changes.length).toBeGreaterThan(0);
    expect(busiestSecond(planner)).toBeLessThanOrEqual(Math.ceil(shareRps));
    // The demand it publishes: each item's call over its 10 s interval, and the pending new specs over a minute.
    expect(ShardShare.demandOf(planner)).toEqual({ [KEY]: Math.round(40 * (0.1 + 1 / 60) * 1000) / 1000 });
  });

  it('ignores an older record, and places jobs anew only when its share falls', () => {
    const share = new ShardShare(1, 2, 0.2);
    const replans: Array<(item: PlanItem) => boolean> = [];
    share.attach((affected) => replans.push(affected));
    share.apply(INITIAL_RECORD);
    expect(share.budgetShare(PROVIDER_KEY, 'GetSecretValue', 10)).toBe(5);
    share.apply({ version: 2, settled: true, demands: { [KEY]: [1, 1] }, previous: {} });
    expect(replans).toHaveLength(0);
    share.apply({ version: 3, settled: false, demands: { [KEY]: [1, 3] }, previous: { [KEY]: [1, 1] } });
    expect(replans).toHaveLength(0);
    // Shard 1's share grows from 5 to 7: nothing placed moves.
    share.apply({ version: 3, settled: true, demands: { [KEY]: [1, 3] }, previous: { [KEY]: [1, 1] } });
    expect(replans).toHaveLength(0);
    expect(share.budgetShare(PROVIDER_KEY, 'GetSecretValue', 10)).toBe(7);
    // And falls back to 5: its jobs are placed anew.
    share.apply({ version: 4, settled: false, demands: { [KEY]: [1, 1] }, previous: { [KEY]: [1, 3] } });
    expect(replans).toHaveLength(1);
    expect(replans[0]?.(fleetItem(1, 10))).toBe(true);
    expect(replans[0]?.(fleetItem(1, 10, { calls: [{ operation: 'DescribeSecret', calls: 1 }] }))).toBe(false);
    share.apply({ version: 2, settled: true, demands: { [KEY]: [1, 1] }, previous: {} });
    expect(share.version).toBe(4);
  });

  it('placing anew in steps (one item a step, the event loop free between them) gives the jobs placing in one piece gives', () => {
    const twin = () => {
      let shareRps = 10;
      const planner = new Planner({ placement: new CapacityPlacement({ budgets: parseBudgets('aws-sm=10'), budgetShare: () => shareRps }) });
      planner.observeAll(Array.from({ length: 600 }, (_, i) => fleetItem(i, 60)), T0);
      return { planner, shrink: () => (shareRps = 4) };
    };
    const whole = twin();
    const stepped = twin();
    const toMove = [...stepped.planner.plannedJobs()].filter((j) => j.plannedAt >= T0 + 1000).length;
    expect(toMove).toBeGreaterThan(500);
    whole.shrink();
    stepped.shrink();
    const inOnePiece = whole.planner.replaceWhere(() => true, T0);
    let steps = 0;
    const byStep: PlanChange[] = [];
    for (const changes of stepped.planner.replaceWhereSteps(() => true, () => T0)) {
      steps++;
      byStep.push(...changes);
    }
    // One step an item: the caller can give the event loop a turn between any two.
    expect(steps).toBeGreaterThanOrEqual(toMove);
    const jobs = (p: Planner) => [...p.plannedJobs()].map((j) => `${j.id}@${j.plannedAt}`).sort();
    expect(jobs(stepped.planner)).toEqual(jobs(whole.planner));
    expect(busiestSecond(stepped.planner)).toBeLessThanOrEqual(4);
    // The queue gets the same changes once a dispatcher merges each ExternalSecret's (coalesce).
    const lastAdd = (changes: PlanChange[]) => new Map(changes.map((c) => [c.uid, c.add?.id]));
    expect(new Map([...lastAdd(byStep)].filter(([, id]) => id !== undefined))).toEqual(new Map([...lastAdd(inOnePiece)].filter(([, id]) => id !== undefined)));
  });

  it('placing anew in steps leaves a job whose time came during the steps as it is (a worker may hold it)', () => {
    let shareRps = 10;
    let clock = T0;
    const planner = new Planner({ placement: new CapacityPlacement({ budgets: parseBudgets('aws-sm=10'), budgetShare: () => shareRps }) });
    planner.observeAll(Array.from({ length: 600 }, (_, i) => fleetItem(i, 60)), T0);
    const before = new Map([...planner.plannedJobs()].map((j) => [j.uid, j]));
    shareRps = 4;
    const steps = planner.replaceWhereSteps(() => true, () => clock);
    steps.next();
    // Thirty seconds pass before the next step (a loaded replica).
    clock = T0 + 30_000;
    const cancelled: PlannedSync[] = [];
    for (let step = steps.next(); !step.done; step = steps.next()) for (const c of step.value) cancelled.push(...c.cancel);
    expect(cancelled.length).toBeGreaterThan(0);
    expect(cancelled.filter((j) => j.plannedAt < T0 + 31_000).map((j) => j.id)).toEqual([]);
    // The jobs of those seconds are still planned where they were.
    const due = [...before.values()].filter((j) => j.plannedAt >= T0 + 1000 && j.plannedAt < T0 + 31_000);
    expect(due.length).toBeGreaterThan(100);
    const now = new Map([...planner.plannedJobs()].map((j) => [j.uid, j.id]));
    expect(due.filter((j) => now.get(j.uid) !== j.id).length).toBeLessThanOrEqual(1); // the first step's
  });

  it('between steps only the released items wait (a new spec is planned at once); steps left undone put the jobs back as the queue holds them', () => {
    let shareRps = 10;
    const planner = new Planner({ placement: new CapacityPlacement({ budgets: parseBudgets('aws-sm=10'), budgetShare: () => shareRps }) });
    planner.observeAll(Array.from({ length: 300 }, (_, i) => fleetItem(i, 60)), T0);
    const before = new Map([...planner.plannedJobs()].map((j) => [j.uid, j.id]));
    shareRps = 4;
    const steps = planner.replaceWhereSteps(() => true, () => T0);
    steps.next();
    const waiting = [...before.keys()].filter((uid) => planner.awaitsPlacing(uid));
    expect(waiting.length).toBeGreaterThan(250);
    // A new spec between two steps: planned now, and not waiting.
    const fresh = fleetItem(1000, 60);
    const added = planner.observeAll([fresh], T0).filter((c) => c.add);
    expect(added.map((c) => c.uid)).toEqual([fresh.uid]);
    expect(planner.awaitsPlacing(fresh.uid)).toBe(false);
    // The caller stops (its term ended): the items not yet placed have their old jobs again.
    steps.return();
    expect(planner.replacing).toBe(false);
    expect(waiting.filter((uid) => planner.awaitsPlacing(uid))).toEqual([]);
    const after = new Map([...planner.plannedJobs()].map((j) => [j.uid, j.id]));
    expect(waiting.filter((uid) => after.get(uid) !== before.get(uid))).toEqual([]);
    expect(after.get(fresh.uid)).toBeDefined();
  });

  it('a shard placing its jobs anew publishes the demand it had, not the shortfall of the jobs not yet placed', async () => {
    const patches: Array<{ name: string; value: string }> = [];
    const coordination = {
      readNamespacedLease: async ({ name }: { name: string }): Promise<V1Lease> => ({ metadata: { name }, spec: {} }),
      patchNamespacedLease: async ({ name, body }: { name: string; body: { metadata: { annotations: Record<string, string> } } }) => {
        patches.push({ name, value: body.metadata.annotations[DEMAND_ANNOTATION] as string });
        return {};
      },
    } as unknown as CoordinationV1Api;
    const exchange = new ShardBudgetExchange({ coordination, namespace: 'ns', leaseName: 'l', planShards: 2, reservedShare: 0.2, logger: createLogger('test', 'silent') });
    const share = exchange.shareFor(1);
    const planner = new Planner({ placement: new CapacityPlacement({ budgets: parseBudgets('aws-sm=10'), budgetShare: share.budgetShare }) });
    await exchange.join(share, planner);
    planner.observeAll(Array.from({ length: 600 }, (_, i) => fleetItem(i, 60)), T0);
    share.attach(() => undefined);
    const leaseOf = (value: string | undefined): V1Lease => ({ metadata: { name: 'l-plan-1', ...(value ? { annotations: { [DEMAND_ANNOTATION]: value } } : {}) }, spec: { holderIdentity: 'a' } });
    await exchange.round([undefined, leaseOf(undefined)], [true, true]);
    expect(patches).toHaveLength(1);
    const published = patches[0]?.value as string;
    expect(JSON.parse(published).demands[KEY]).toBeCloseTo(600 / 60 + 600 / 60, 0);
    // A budget move: the jobs are released, and placed anew one a step. Between two steps the
    // campaign's round comes: the demand published stays the one the whole plan had.
    const steps = planner.replaceWhereSteps(() => true, () => T0);
    steps.next();
    await exchange.round([undefined, leaseOf(published)], [true, true]);
    expect(patches).toHaveLength(1);
    for (let step = steps.next(); !step.done; step = steps.next());
    expect(planner.replacing).toBe(false);
    await exchange.round([undefined, leaseOf(published)], [true, true]);
    expect(patches).toHaveLength(1);
  });
});
