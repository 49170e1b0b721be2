// steady: after the burst converges, one observed window of routine refreshes: peak/mean and
// deadlines kept.
import { sleep, type Scenario } from './scenario.js';

export function steadyScenario(): Scenario {
  return {
    async run(ctx) {
      await ctx.waitFor('every ExternalSecret to be Ready', ctx.allReady);
      ctx.setPhase('steady');
      const start = Date.now();
      ctx.mark('all Ready; observing the steady state');
      await sleep(ctx.settings.observeMs);
      return { converge: ctx.converge, window: { startMs: start, endMs: Date.now() } };
    },
  };
}
