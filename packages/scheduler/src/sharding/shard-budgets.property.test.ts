// Budgets between plan shards (fast-check): whatever the demands published in the shard Leases
// (zeros, huge, garbage), the shares never add up to more than the key's budget, each keeps its
// floor, and a shard with more demand never gets less than one with less.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { budgetTableShare, demandMoved, shardBudgets } from './shard-budgets.js';

const demandArb = fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom(0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e-9, 1e300));

describe("a quota key's budget between plan shards", () => {
  it('the shares sum to at most the budget for any demand vector, each at least the floor', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 100_000, noNaN: true }),
        fc.array(demandArb, { minLength: 1, maxLength: 64 }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        (budgetRps, demands, floorRps) => {
          const shares = shardBudgets({ budgetRps, demands, floorRps });
          expect(shares).toHaveLength(demands.length);
          const sumMilli = shares.reduce((a, s) => a + Math.round(s * 1000), 0);
          expect(sumMilli).toBeLessThanOrEqual(Math.floor(budgetRps * 1000));
          const floorMilli = Math.min(Math.floor(floorRps * 1000), Math.floor(Math.floor(budgetRps * 1000) / demands.length));
          for (const s of shares) expect(Math.round(s * 1000)).toBeGreaterThanOrEqual(floorMilli);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('more demand never gets a smaller share', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 10_000, noNaN: true }), fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 16 }), (budgetRps, demands) => {
        const shares = shardBudgets({ budgetRps, demands, floorRps: budgetRps / 100 });
        for (let i = 0; i < demands.length; i++) {
          for (let j = 0; j < demands.length; j++) if ((demands[i] as number) > (demands[j] as number)) expect(shares[i]).toBeGreaterThanOrEqual((shares[j] as number) - 0.001);
        }
      }),
    );
  });

  it('in proportion to demand above the floor; equal shares when nobody publishes demand', () => {
    expect(shardBudgets({ budgetRps: 100, demands: [30, 10, 0, 0], floorRps: 5 })).toEqual([65, 25, 5, 5]);
    expect(shardBudgets({ budgetRps: 100, demands: [0, 0, 0, 0], floorRps: 5 })).toEqual([25, 25, 25, 25]);
    expect(shardBudgets({ budgetRps: 10, demands: [1, 1, 1, 1], floorRps: 50 })).toEqual([2.5, 2.5, 2.5, 2.5]);
  });

  it('a demand is republished only when it moved by more than a tenth', () => {
    expect(demandMoved(undefined, 0)).toBe(true);
    expect(demandMoved(100, 109)).toBe(false);
    expect(demandMoved(100, 111)).toBe(true);
    expect(demandMoved(0, 1)).toBe(true);
  });

  it("each plan shard's budget table is an equal share, S of them never above the operator's", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 100_000, noNaN: true }), fc.integer({ min: 1, max: 256 }), (rps, shards) => {
        const share = budgetTableShare({ 'aws-sm': { GetSecretValue: rps } }, shards)['aws-sm']?.GetSecretValue as number;
        expect(Math.round(share * 1000) * shards).toBeLessThanOrEqual(Math.floor(rps * 1000) + (shards === 1 ? 1 : 0));
        if (shards === 1) expect(share).toBe(rps);
      }),
    );
  });
});
