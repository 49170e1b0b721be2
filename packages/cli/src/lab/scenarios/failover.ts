// failover: part-way through the burst the active instance is killed (Herdless: the Lease
// holder, SIGKILL; the real ESO: its one process, and a new one after the Lease would expire).
import { sleep, type Scenario } from './scenario.js';

/** ESO's Lease duration: a Deployment's new pod takes over after it. */
const ESO_RESTART_AFTER_MS = 15_000;

export function failoverScenario(): Scenario {
  return {
    async run(ctx) {
      const { settings, controller } = ctx;
      const killAt = ctx.t0 + Math.max(10_000, (settings.count / settings.quotaRps) * 300);
      while (Date.now() < killAt && !ctx.allReady()) await sleep(250);
      ctx.setPhase('failover');
      ctx.mark(await controller.killActive());
      if (ctx.run.kind === 'eso-real') {
        // No second ESO replica outside a cluster (its leader election needs an in-cluster
        // namespace): a new process after the Lease would have expired, as a Deployment does.
        await sleep(ESO_RESTART_AFTER_MS);
        await controller.start();
        ctx.mark('started a new ESO process');
      }
      ctx.setPhase('storm');
      await ctx.waitFor('every ExternalSecret to be Ready', ctx.allReady);
      return { converge: ctx.converge };
    },
  };
}
