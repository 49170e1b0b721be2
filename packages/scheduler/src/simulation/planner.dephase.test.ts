// The planner over time, in virtual seconds: a fleet that synced in one burst (a mass creation,
// or a recovery after downtime) must not stay in phase. Every job runs in its planned second,
// or later when the workers' limiter (the budget per second) makes it wait, and reports back as
// the worker's status would; the per-second calls of the interval after the
// burst are then as flat as the fleet allows (peak/mean ≤ 1.2), and no refresh is late. The
// limiter admits what the real one does on the budget (sustainedRpsOf, below the budget), and
// new ExternalSecrets may keep arriving during the burst (they preempt the catch-up).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { graceSecondsOf } from '../planning/placement/slot-maths.js';
import { peakAndMean as interval, simulateFleet, type FleetStart, type SimulationOptions, type VirtualFleet as Fleet } from './virtual-fleet.js';

function simulate(fleet: Fleet, start: FleetStart, respreadFraction: number, seconds: number, arrivals?: SimulationOptions['arrivals']) {
  return simulateFleet(fleet, start, seconds, { respreadFraction, ...(arrivals ? { arrivals } : {}) });
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
            // The seconds each refresh ran before its deadline, by the second it ran.
            const margins: Array<[number, number]> = [];
            const { calls, late, burstEnd, lost, stale } = simulateFleet(fleet, start, 3 * fleet.intervalS + 2 * burstSeconds, {
              respreadFraction: 1,
              arrivals,
              onRefresh: (margin, second) => margins.push([second, margin]),
            });
            expect({ lost, stale }).toEqual({ lost: 0, stale: 0 });
            const { peak, mean } = interval(calls, burstEnd, fleet.intervalS);
            expect(mean).toBeGreaterThan(0.9 * (fleet.count / fleet.intervalS));
            expect(peak / mean).toBeLessThanOrEqual(1.2);
            expect(late).toBe(0);
            // The refreshes were re-spread after the burst, outside the grace; the routine ones
            // after them keep it: none runs in the last seconds before its deadline, where a
            // pause of the workers would make it late.
            const grace = graceSecondsOf(fleet.intervalS * 1000);
            const after = margins.filter(([second]) => second > burstEnd + fleet.intervalS);
            expect(after.length).toBeGreaterThan(0.9 * fleet.count);
            expect(Math.min(...after.map(([, margin]) => margin))).toBeGreaterThanOrEqual(grace);
          },
        ),
        { numRuns: 8 },
      );
    }, 120_000);
  }

  it('in steady state, two intervals stay flat and every refresh is on time', () => {
    fc.assert(
      fc.property(
        fleetArb.filter((f) => f.count / f.intervalS <= 0.6 * f.budgetRps && f.count / f.intervalS >= 5),
        (fleet) => {
          const { calls, late, refreshes, lost, stale } = simulate(fleet, 'steady', 1, 2 * fleet.intervalS);
          expect({ lost, stale, late }).toEqual({ lost: 0, stale: 0, late: 0 });
          expect(refreshes).toBeGreaterThanOrEqual(fleet.count);
          const { peak, mean } = interval(calls, 0, 2 * fleet.intervalS - 2);
          expect(peak / mean).toBeLessThanOrEqual(1.2);
        },
      ),
      { numRuns: 8 },
    );
  }, 120_000);

  it('when the workers run below the limiter\'s rate, a mass creation\'s refreshes still wait for its end: the next interval is flat and nothing is late', () => {
    // The lab's workers reach 92–98 % of the limiter's rate (the API server shares their two
    // cores): the new specs end later than planned, and refreshes planned inside that overrun ran
    // at its end, together (10,000 at 95 %: 846 late, peak/mean 1.46 before the planner counted
    // pending specs; 732 and 1.46 with that count but without Planner.rebalance).
    fc.assert(
      fc.property(
        fleetArb.filter((f) => f.count / f.intervalS <= 0.6 * f.budgetRps && f.count / f.intervalS >= 5 && f.count / f.budgetRps <= 0.7 * f.intervalS),
        fc.double({ min: 0.85, max: 0.98, noNaN: true }),
        (fleet, workerShare) => {
          // Created faster than the budget (the lab creates about 200 a second), none before T0.
          const arrivals = { perSecond: 200, forSeconds: Math.ceil(fleet.count / 200) };
          const burstSeconds = Math.ceil(fleet.count / (fleet.budgetRps * workerShare));
          const r = simulateFleet({ ...fleet, count: 0 }, 'created', 3 * fleet.intervalS + 2 * burstSeconds, { arrivals, workerShare });
          expect({ lost: r.lost, stale: r.stale, late: r.late }).toEqual({ lost: 0, stale: 0, late: 0 });
          const { peak, mean } = interval(r.calls, r.burstEnd, fleet.intervalS);
          expect(mean).toBeGreaterThan(0.9 * (fleet.count / fleet.intervalS));
          expect(peak / mean).toBeLessThanOrEqual(1.2);
        },
      ),
      { numRuns: 8 },
    );
  }, 120_000);

  it('without the re-spread (the refresh window alone), the burst stays in phase', () => {
    const fleet = { count: 3_000, intervalS: 300, budgetRps: 50 };
    const { calls, burstEnd } = simulate(fleet, 'overdue', 0.1, 3 * fleet.intervalS + 100);
    const { peak, mean } = interval(calls, burstEnd, fleet.intervalS);
    expect(peak / mean).toBeGreaterThan(2);
  });
});
