// Fair share between namespaces on one provider key (fast-check): a namespace's new spec never
// waits behind more than its share of another's specs, whatever the others created before or
// create after; the operator's caps are never exceeded in any slot; and every job a new spec
// overtook is on the queue again, once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBudgets, sustainedRpsOf } from '@herdless/core';
import { CapacityPlacement } from './placement/capacity-placement.js';
import type { TenantShares } from './placement/fair-share.js';
import { slotCap } from './placement/slot-maths.js';
import type { PlanChange, PlannedSync } from './plan.js';
import { planItem } from './plan-item.fixture.js';
import { Planner } from './planner.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const NAMESPACES = ['tenant-a', 'tenant-b', 'tenant-c', 'tenant-d'] as const;

/** One planning pass: at `second` (from T0), `count` new ExternalSecrets in one namespace. */
const creationArb = fc.record({
  second: fc.integer({ min: 0, max: 30 }),
  namespace: fc.constantFrom(...NAMESPACES),
  count: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 20, max: 200 })),
});

function planner(budgetRps: number, tenants: TenantShares): { planner: Planner; placement: CapacityPlacement } {
  const placement = new CapacityPlacement({ budgets: parseBudgets(`aws-sm=${budgetRps}`), tenants });
  return { planner: new Planner({ placement }), placement };
}

/** Spec calls of a namespace planned in slots (from, to] (seconds), from the planner's jobs. */
function callsIn(jobs: readonly PlannedSync[], namespace: string, from: number, to: number): number {
  let n = 0;
  for (const j of jobs) {
    const s = Math.floor(j.plannedAt / 1000);
    if (j.namespace === namespace && s > from && s <= to) n += j.cost;
  }
  return n;
}

/**
 * One planning pass bringing new specs of several namespaces at once (an informer's batch after a
 * busy second), in the order given: interleaved, or one namespace's block before another's.
 */
const mixedPassArb = fc
  .record({
    second: fc.integer({ min: 0, max: 30 }),
    parts: fc.array(fc.record({ namespace: fc.constantFrom(...NAMESPACES), count: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 20, max: 120 })) }), { minLength: 2, maxLength: 4 }),
    interleave: fc.boolean(),
  })
  .map(({ second, parts, interleave }) => ({ second, namespaces: orderOf(parts, interleave) }));

/** The namespaces of a pass's new specs in the order the pass brings them. */
function orderOf(parts: ReadonlyArray<{ namespace: string; count: number }>, interleave: boolean): string[] {
  if (!interleave) return parts.flatMap((p) => Array.from({ length: p.count }, () => p.namespace));
  const left = parts.map((p) => ({ ...p }));
  const out: string[] = [];
  while (left.some((p) => p.count > 0)) for (const p of left) if (p.count-- > 0) out.push(p.namespace);
  return out;
}

/** A creation: `count` new specs of one namespace, or a mixed pass (`namespaces`, in order). */
type Creation = { second: number; namespace: string; count: number } | { second: number; namespaces: readonly string[] };

/** Runs the creations in time order; calls `check` after each pass with the jobs it placed. */
function run(
  creations: ReadonlyArray<Creation>,
  budgetRps: number,
  tenants: TenantShares,
  check: (placed: PlannedSync[], nowSec: number, p: Planner, changes: PlanChange[]) => void,
): Planner {
  const { planner: p } = planner(budgetRps, tenants);
  let next = 0;
  const sorted = [...creations].sort((a, b) => a.second - b.second);
  for (const c of sorted) {
    const now = T0 + c.second * 1000;
    const namespaces = 'namespaces' in c ? c.namespaces : Array.from({ length: c.count }, () => c.namespace);
    const items = namespaces.map((namespace) => planItem(next++, { namespace }));
    const changes = p.observeAll(items, now);
    // The new specs of this pass where they are placed (jobs of others they moved are not new).
    const placed = items.flatMap((item) => p.planned(item.uid) ?? []);
    check(placed, Math.floor(now / 1000), p, changes);
  }
  return p;
}

describe('fair share between namespaces (property-based)', () => {
  /** The fairness property over runs of these creations. */
  function checkFairShare(creationsArb: fc.Arbitrary<Creation[]>, numRuns: number): void {
    fc.assert(
      fc.property(creationsArb, fc.integer({ min: 2, max: 40 }), fc.record({ 'tenant-a': fc.constantFrom(1, 2, 3), 'tenant-b': fc.constantFrom(1, 2) }), (creations, budget, weights) => {
        const weightOf = (ns: string): number => (weights as Record<string, number>)[ns] ?? 1;
        run(creations, budget, { weights }, (placed, nowSec, p) => {
          const jobs = [...p.plannedJobs()];
          for (const j of placed) {
            const slot = Math.floor(j.plannedAt / 1000);
            // What j's namespace has between now and j's slot, j included, and what each other
            // namespace has strictly before j's slot (same slot: served in the same second).
            const mine = callsIn(jobs, j.namespace, nowSec, slot);
            for (const other of NAMESPACES) {
              if (other === j.namespace) continue;
              const ahead = callsIn(jobs, other, nowSec, slot - 1);
              expect(ahead, `${j.namespace}'s job at +${slot - nowSec}s waits behind ${ahead} of ${other}'s calls (it has ${mine})`).toBeLessThanOrEqual(
                (weightOf(other) / weightOf(j.namespace)) * mine + 1e-9,
              );
            }
          }
        });
      }),
      // FC_SEED (and FC_PATH) replay a counterexample; without them every run draws its own seed.
      { numRuns, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}) },
    );
  }

  it("no namespace's new spec waits behind more than its share of another's", () => {
    // Each run is a few ms: 150 keep the file within seconds on a loaded machine; the bound held
    // at 3,000 runs for several seeds.
    checkFairShare(fc.array(creationArb, { minLength: 2, maxLength: 8 }), 150);
  }, 60_000);

  it("no namespace's new spec waits behind more than its share of another's when one pass brings several namespaces at once", () => {
    // The check runs after the whole pass, on the pass's new specs where they end (the specs of
    // a pass move each other: a spec placed early may be displaced by one placed after it).
    // Placed in arrival order, fast-check found [A×20, B×20, D×1] at budget 4, A weighing 3: one
    // of A's specs at +10 s behind 17 of B's calls (its share allows 5.7). FC_RUNS for a longer search.
    checkFairShare(
      mixedPassArb.map((pass) => [pass]),
      Number(process.env.FC_RUNS ?? 200),
    );
  }, 60_000);

  it("no namespace's new spec waits behind more than its share of another's when a mixed pass comes on top of earlier passes' specs", () => {
    // Without Planner.fixUpPass, fast-check found A×21 at 0 then [A×20, D×20, B×1] at +3 s,
    // budget 2, A weighing 3: B's spec at +4 s behind 4 of A's calls (its share allows 3); an A
    // spec placed after B's went in front of A's older jobs, overtaking a third namespace there.
    checkFairShare(fc.array(fc.oneof(creationArb, mixedPassArb), { minLength: 2, maxLength: 5 }), Number(process.env.FC_RUNS ?? 50));
  }, 60_000);

  it('every spec a new spec overtook is on the queue again once, later, and nothing is dropped, also when one pass brings several namespaces at once', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(creationArb, mixedPassArb), { minLength: 2, maxLength: 10 }), fc.integer({ min: 2, max: 20 }), (creations, budget) => {
        const queue = new Map<string, PlannedSync>();
        const p = run(creations, budget, {}, (_placed, _nowSec, _p, changes) => {
          for (const ch of changes) {
            for (const c of ch.cancel) queue.delete(c.uid);
            if (ch.add) {
              const before = queue.get(ch.uid);
              if (before && before.id !== ch.add.id) expect(ch.add.plannedAt, 'a moved spec goes later').toBeGreaterThan(before.plannedAt);
              queue.set(ch.uid, ch.add);
            }
          }
        });
        const planned = [...p.plannedJobs()];
        expect(queue.size).toBe(creations.reduce((n, c) => n + ('namespaces' in c ? c.namespaces.length : c.count), 0));
        expect(planned.map((j) => j.id).sort()).toEqual([...queue.values()].map((j) => j.id).sort());
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it("a namespace's cap is never exceeded in any slot, whoever else creates what", () => {
    fc.assert(
      fc.property(
        fc.array(creationArb, { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 4, max: 40 }),
        fc.record({ 'tenant-a': fc.constantFrom(0.1, 0.25, 0.5), 'tenant-c': fc.constantFrom(0.3, 0.9) }),
        (creations, budget, caps) => {
          const p = run(creations, budget, { caps }, () => {});
          const bySlot = new Map<string, number>();
          for (const j of p.plannedJobs()) {
            const k = `${j.namespace}@${Math.floor(j.plannedAt / 1000)}`;
            bySlot.set(k, (bySlot.get(k) ?? 0) + j.cost);
          }
          for (const [k, calls] of bySlot) {
            const [ns, s] = k.split('@') as [string, string];
            const cap = (caps as Record<string, number>)[ns];
            if (cap === undefined) continue;
            expect(calls, `${ns} in slot ${s}`).toBeLessThanOrEqual(slotCap(sustainedRpsOf(budget) * cap, Number(s)));
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);
});
