// recovery: after the burst converges the controller is stopped for --down, so the whole fleet
// is overdue when it starts again; new ExternalSecrets arrive during the catch-up (someone is
// waiting for each), and the interval after it is observed.
import { createTrickle, type StormPlan } from '@herdless/lab';
import { sleep, type Scenario } from './scenario.js';

/** New ExternalSecrets during a recovery: one every PROBE_EVERY_MS until the backlog is gone. */
const PROBE_EVERY_MS = 500;
const MAX_PROBES = 200;

/** The new ones read the storm's remote secrets (already in the AWS endpoint) under new names. */
function newItems(plan: StormPlan, count: number): Array<{ name: string; remoteKey: string }> {
  return plan.items.slice(0, Math.min(MAX_PROBES, count)).map((item, i) => ({ name: `new-${i}`, remoteKey: item.remoteKey }));
}

export function recoveryScenario(): Scenario {
  return {
    async run(ctx) {
      const { settings, controller, observer } = ctx;
      await ctx.waitFor('every ExternalSecret to be Ready', ctx.allReady);
      ctx.setPhase('down');
      await controller.stop();
      ctx.mark(`controller stopped for ${settings.downMs / 1000} s`);
      await sleep(settings.downMs);
      ctx.setPhase('recovery');
      const restart = Date.now();
      await controller.start();
      ctx.mark('controller started again');
      // The new ExternalSecrets start with the storm (the first sync after the restart), not
      // with the processes, so their figure is the wait behind the backlog, not the start-up.
      const syncsAtRestart = observer.syncCount();
      await ctx.waitFor('the first sync after the restart', () => observer.syncCount() > syncsAtRestart);
      let caughtUp = false;
      const trickle = createTrickle(ctx.kc, newItems(ctx.plan, settings.count), settings.refreshInterval, PROBE_EVERY_MS, () => caughtUp);
      const names = [...ctx.createdAt.keys()];
      await ctx.waitFor('every overdue ExternalSecret to be refreshed', () => observer.allSyncedSince(names, restart));
      caughtUp = true;
      const probesCreatedAt = await trickle;
      ctx.mark(`${probesCreatedAt.size} new ExternalSecrets created during the catch-up`);
      await ctx.waitFor('the new ExternalSecrets to be Ready', () => [...probesCreatedAt.keys()].every((n) => observer.records.get(n)?.readyAt !== undefined));
      ctx.setPhase('steady');
      ctx.mark('caught up; observing the interval that follows');
      const start = Date.now();
      await sleep(settings.observeMs);
      return { converge: { fromMs: restart, kind: 'synced' }, probesCreatedAt, window: { startMs: start, endMs: Date.now() } };
    },
  };
}
