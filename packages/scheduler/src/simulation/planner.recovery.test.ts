// The planner over a restart, in virtual seconds: a fleet on a short interval (the lab's recovery
// storm: 30 s, down two intervals) finds its routine jobs from before the stop still on the queue,
// less than a minute past their slots. The catch-up must take the whole rate the workers' limiter
// admits less what new specs use (the reserve they leave unused, second by second), not the
// routine share the limiter holds routine jobs to; and the interval after it must stay flat, with
// no refresh late. Convergence is measured against the physical limit, the calls needed over the
// budget (the lab's figure), from the new leader's first pass. The interval after is read as the
// lab reads it (1.5 intervals from convergence), and no two of its refreshes may be planned for
// one instant: the lab's workers ran such piles a second late, on top of the next second's own.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { peakAndMean, simulateFleet } from './virtual-fleet.js';

/** Refresh intervals the lab's recovery storm observes after convergence (lab-config.ts SCENARIO_DEFAULTS). */
const LAB_OBSERVED_INTERVALS = 1.5;

const fleetArb = fc.record({
  count: fc.integer({ min: 200, max: 900 }),
  // Intervals under a minute: a longer one's routine jobs are more than a minute past their slots
  // after two intervals down, and were replaced already.
  intervalS: fc.constantFrom(20, 30, 45),
  budgetRps: fc.integer({ min: 10, max: 40 }),
});

describe('recovery uses the reserve the new specs leave (virtual time)', () => {
  it('after a restart that finds the routine jobs of a short interval still queued, the catch-up converges within 1.2× the physical limit, the interval after is flat with every refresh at its own place in its second, and nothing is late', () => {
    fc.assert(
      fc.property(
        // As in planner.dephase.test.ts: demand within 60 % of the budget, at least 5 calls a second;
        // and a catch-up of at least 10 s (a shorter one is over 1.2× by whole seconds alone: the
        // limiter admits 5.7 % below the budget, and the last second counts whole) and at most half
        // an interval, as in the lab (longer, the refreshes of the first items caught up are due
        // before the routine share can spread the rest).
        fleetArb.filter((f) => f.count / f.intervalS <= 0.6 * f.budgetRps && f.count / f.intervalS >= 5 && f.count / f.budgetRps >= 10 && f.count / f.budgetRps <= f.intervalS / 2),
        // New ExternalSecrets during the catch-up (the lab creates two a second).
        fc.integer({ min: 0, max: 2 }),
        (fleet, newPerSecond) => {
          const burstSeconds = Math.ceil(fleet.count / fleet.budgetRps);
          const arrivals = { perSecond: newPerSecond, forSeconds: burstSeconds };
          const r = simulateFleet(fleet, 'overdue', 3 * fleet.intervalS + 2 * burstSeconds, { respreadFraction: 1, arrivals, allRoutineJobsLeft: true });
          expect({ lost: r.lost, stale: r.stale, late: r.late }).toEqual({ lost: 0, stale: 0, late: 0 });
          const physicalLimitS = (fleet.count + newPerSecond * burstSeconds) / fleet.budgetRps;
          // burstEnd is the second of the last first sync since the restart: converged at its end.
          expect((r.burstEnd + 1) / physicalLimitS).toBeLessThanOrEqual(1.2);
          // The interval after as the lab reads it (lab figures.ts computeResult over the recovery
          // scenario's window): whole seconds from convergence, for 1.5 intervals.
          const { peak, mean } = peakAndMean(r.calls, r.burstEnd, Math.floor(LAB_OBSERVED_INTERVALS * fleet.intervalS));
          expect(mean).toBeGreaterThan(0.9 * (fleet.count / fleet.intervalS));
          expect(peak / mean).toBeLessThanOrEqual(1.2);
          // Each refresh at its own place in its second: none planned for the instant of another
          // (a slot's refreshes at one instant reach the limiter together and spill into the next
          // second in the lab; virtual-fleet.ts's piled).
          expect(Math.max(...r.piled.slice(r.burstEnd + 1))).toBe(1);
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});
