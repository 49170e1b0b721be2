// burst: N ExternalSecrets created at once; the figures are how the controller drains them.
import type { Scenario } from './scenario.js';

export function burstScenario(): Scenario {
  return {
    async run(ctx) {
      await ctx.waitFor('every ExternalSecret to be Ready', ctx.allReady);
      return { converge: ctx.converge };
    },
  };
}
