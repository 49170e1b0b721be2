// outage: half an interval after convergence the AWS endpoint answers 500 for --outage; the
// figures are the catch-up after it comes back and the window that follows.
import { sleep, type Scenario } from './scenario.js';

export function outageScenario(): Scenario {
  return {
    async run(ctx) {
      const { settings, world } = ctx;
      await ctx.waitFor('every ExternalSecret to be Ready', ctx.allReady);
      await sleep(settings.refreshIntervalMs / 2);
      ctx.setPhase('outage');
      await world.aws.setOutage(true);
      ctx.mark(`AWS endpoint down (500 InternalServiceError) for ${settings.outageMs / 1000} s`);
      await sleep(settings.outageMs);
      await world.aws.setOutage(false);
      const back = Date.now();
      ctx.setPhase('recovery');
      ctx.mark('AWS endpoint back');
      const names = [...ctx.createdAt.keys()];
      await ctx.waitFor('every ExternalSecret to be refreshed after the outage', () => ctx.observer.allSyncedSince(names, back));
      ctx.setPhase('steady');
      const start = Date.now();
      await sleep(settings.observeMs);
      return { converge: { fromMs: back, kind: 'synced' }, window: { startMs: start, endMs: Date.now() } };
    },
  };
}
