// Shares between plan shards at run time (fast-check): in any interleaving of owners publishing
// demand, reading and applying the coordinator's record (late, so each may hold another version),
// the coordinator reading the Leases and writing its next record (from a stale read; the write is
// refused when the record changed since, as the Lease's resourceVersion refuses it), and shards
// changing hands, the shares in force never add up to more than the key's budget. The same model
// with each owner computing its share from the demands it last read breaks it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextBudgetRecord, shareInForce, type BudgetRecord, type ShardReport } from './budget-agreement.js';
import { shardBudgets } from './shard-budgets.js';

const KEY = 'aws-sm|123|eu-west-1#GetSecretValue';

type Step =
  | { kind: 'demand'; shard: number; rps: number }
  | { kind: 'ownerRead'; shard: number }
  | { kind: 'ownerApply'; shard: number }
  | { kind: 'coordRead' }
  | { kind: 'coordWrite' }
  | { kind: 'release'; shard: number }
  | { kind: 'acquire'; shard: number };

interface Owner {
  held: boolean;
  /** The record read and not yet applied (its Lease listing), and the record applied. */
  read?: BudgetRecord | undefined;
  readReports?: Array<ShardReport | undefined>;
  applied?: BudgetRecord | undefined;
  /** The naive rule: the demands it last applied. */
  appliedReports?: Array<ShardReport | undefined>;
}

type Rule = 'agreement' | 'naive';

/** Runs the steps; returns the first instant the shares in force add up to more than the budget, in thousandths. */
function overBudget(rule: Rule, shards: number, budgetRps: number, floorRps: number, steps: readonly Step[]): { at: number; sumMilli: number } | undefined {
  let record: BudgetRecord | undefined;
  const reports: Array<ShardReport | undefined> = Array.from({ length: shards }, () => undefined);
  const owners: Owner[] = Array.from({ length: shards }, () => ({ held: true }));
  let snapshot: { record: BudgetRecord | undefined; reports: Array<ShardReport | undefined>; held: boolean[] } | undefined;
  const shareOf = (i: number): number => {
    const o = owners[i] as Owner;
    if (!o.held) return 0;
    if (rule === 'agreement') return shareInForce(o.applied, i, shards, KEY, budgetRps, floorRps);
    const demands = (o.appliedReports ?? []).map((r) => r?.demands?.[KEY] ?? 0);
    while (demands.length < shards) demands.push(0);
    return shardBudgets({ budgetRps, floorRps, demands })[i] as number;
  };
  const budgetMilli = Math.floor(budgetRps * 1000);
  for (let at = 0; at < steps.length; at++) {
    const step = steps[at] as Step;
    const o = 'shard' in step ? (owners[step.shard] as Owner) : undefined;
    switch (step.kind) {
      case 'demand':
        if (o?.held) reports[step.shard] = { ...reports[step.shard], demands: { [KEY]: step.rps } };
        break;
      case 'ownerRead':
        if (o?.held) {
          o.read = record;
          o.readReports = reports.map((r) => r && { ...r });
        }
        break;
      case 'ownerApply':
        if (o?.held && o.readReports) {
          // Versions only go forward (the owner keeps the newest it applied).
          if ((o.read?.version ?? 0) >= (o.applied?.version ?? 0)) o.applied = o.read;
          o.appliedReports = o.readReports;
          reports[step.shard] = { ...reports[step.shard], seen: o.applied?.version ?? 0 };
        }
        break;
      case 'coordRead':
        snapshot = { record, reports: reports.map((r) => r && { ...r }), held: owners.map((w) => w.held) };
        break;
      case 'coordWrite': {
        if (!snapshot) break;
        const next = nextBudgetRecord(snapshot.record, snapshot.reports, snapshot.held);
        // A replace with the read's resourceVersion: refused if the record changed since.
        if (next && snapshot.record === record) record = next;
        snapshot = undefined;
        break;
      }
      case 'release':
        if (o) owners[step.shard] = { held: false };
        break;
      case 'acquire':
        // A new owner reads the record (and the Leases) once it holds the shard, before planning.
        if (o && !o.held) owners[step.shard] = { held: true, applied: record, appliedReports: reports.map((r) => r && { ...r }) };
        break;
    }
    let sumMilli = 0;
    for (let i = 0; i < shards; i++) sumMilli += Math.round(shareOf(i) * 1000);
    if (sumMilli > budgetMilli) return { at, sumMilli };
  }
  return undefined;
}

const stepsArb = (shards: number): fc.Arbitrary<Step[]> => {
  const shard = fc.integer({ min: 0, max: shards - 1 });
  return fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('demand' as const), shard, rps: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('ownerRead' as const), shard }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('ownerApply' as const), shard }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'coordRead' as const }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'coordWrite' as const }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), shard }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('acquire' as const), shard }) },
    ),
    { minLength: 20, maxLength: 80, size: 'max' },
  );
};

const scenarioArb = fc.integer({ min: 2, max: 5 }).chain((shards) =>
  fc.record({ shards: fc.constant(shards), budgetRps: fc.integer({ min: 1, max: 500 }), floorShare: fc.double({ min: 0, max: 0.3, noNaN: true }), steps: stepsArb(shards) }),
);

describe('shares between plan shards at run time', () => {
  it('the shares in force never add up to more than the budget, whatever the owners read and when', () => {
    fc.assert(
      fc.property(scenarioArb, ({ shards, budgetRps, floorShare, steps }) => {
        expect(overBudget('agreement', shards, budgetRps, (floorShare * budgetRps) / shards, steps)).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('each owner computing its share from the demands it read goes over the budget (the model can fail)', () => {
    const found = fc.check(
      fc.property(scenarioArb, ({ shards, budgetRps, floorShare, steps }) => overBudget('naive', shards, budgetRps, (floorShare * budgetRps) / shards, steps) === undefined),
      { numRuns: 3000, seed: 7 },
    );
    expect(found.failed).toBe(true);
  });

  it('settles, and then gives each shard its demand-proportional share', () => {
    const held = [true, true];
    const reports: ShardReport[] = [{ demands: { [KEY]: 10 } }, { demands: { [KEY]: 1 } }];
    const v1 = nextBudgetRecord(undefined, reports, held) as BudgetRecord;
    expect(v1).toMatchObject({ version: 1, settled: false });
    // Not settled: each keeps the lesser of the equal split and its new share.
    expect([0, 1].map((i) => shareInForce(v1, i, 2, KEY, 100, 10))).toEqual([50, 17.272]);
    expect(nextBudgetRecord(v1, [{ ...reports[0], seen: 1 }, reports[1]], held)).toBeUndefined();
    const settled = nextBudgetRecord(v1, [{ ...reports[0], seen: 1 }, { ...reports[1], seen: 1 }], held) as BudgetRecord;
    expect(settled).toMatchObject({ version: 1, settled: true });
    expect([0, 1].map((i) => shareInForce(settled, i, 2, KEY, 100, 10))).toEqual([82.727, 17.272]);
    // A shard nobody holds does not hold the version back.
    expect(nextBudgetRecord(v1, [{ ...reports[0], seen: 1 }, reports[1]], [true, false])).toMatchObject({ settled: true });
  });
});
