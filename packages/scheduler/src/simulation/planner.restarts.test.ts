// The planner through a creation storm whose terms restart, in virtual seconds. Under load a
// scheduler's renewals can pass their deadline (the lab's sharded run at 100,000: 27 restarts in
// the storm's first 15 minutes); each new term remembers only the jobs it adopts from the queue,
// and in sharded planning every job still to come is placed anew whenever a plan shard's budget
// moves (Planner.replaceWhere). A just-created ExternalSecret's first refresh must stay spread
// over its whole interval through both, and out of the way of the storm's later specs, or the
// storm runs long and its refreshes come due at the storm's rate, above the routine share, and
// run late (that run: 39 % on time, 14 calls a second just after convergence).
import { sustainedRpsOf } from '@herdless/core';
import { describe, expect, it } from 'vitest';
import { peakAndMean, simulateFleet } from './virtual-fleet.js';

// 4,000 created at 20 a second on a budget of 20 (the limiter admits 18.9, refreshes 15.1): the
// storm syncs at 18.9 a second for about 212 s, with an interval of 300 s.
const FLEET = { count: 0, intervalS: 300, budgetRps: 20 };
const ARRIVALS = { perSecond: 20, forSeconds: 200 };
const CREATED = ARRIVALS.perSecond * ARRIVALS.forSeconds;
// A term lost every 20 s through the storm, the next one 4 s later.
const TERM_RESTARTS = Array.from({ length: 10 }, (_, i) => ({ at: 20 * (i + 1), gapSeconds: 4 }));

describe('a creation storm through term restarts (virtual time)', () => {
  for (const [what, replaceEverySeconds] of [
    ['one replica', undefined],
    ["sharded, the shard's budget moving every 10 s", 10],
  ] as const) {
    it(`${what}: the storm converges near the physical limit, every refresh on time, the interval after flat`, () => {
      const r = simulateFleet(FLEET, 'created', 1_000, { arrivals: ARRIVALS, termRestarts: TERM_RESTARTS, ...(replaceEverySeconds ? { replaceEverySeconds } : {}) });
      expect({ lost: r.lost, stale: r.stale, late: r.late }).toEqual({ lost: 0, stale: 0, late: 0 });
      // Each restart's gap leaves a few seconds of creations unplanned; no more is lost.
      const physicalLimitS = CREATED / sustainedRpsOf(FLEET.budgetRps);
      expect((r.burstEnd + 1) / physicalLimitS).toBeLessThanOrEqual(1.1);
      const { peak, mean } = peakAndMean(r.calls, r.burstEnd + 1, FLEET.intervalS);
      expect(mean).toBeGreaterThan(0.9 * (CREATED / FLEET.intervalS));
      expect(peak / mean).toBeLessThanOrEqual(1.2);
    }, 120_000);
  }
});
