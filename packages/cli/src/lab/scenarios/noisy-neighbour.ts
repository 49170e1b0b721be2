// noisy-neighbour: tenant A's burst on one provider key while tenants B–E each create one
// ExternalSecret every 2 s on the same key; their create-to-Ready should not depend on A's storm.
import type { Scenario } from './scenario.js';
import { prepareNeighbours, startNeighbours, waitForControllerReady, type Neighbours } from './noisy-neighbour-tenants.js';

export function noisyNeighbourScenario(): Scenario {
  let neighbours: Neighbours | undefined;
  return {
    prepare: (kc, region, budgetRps) => prepareNeighbours(kc, region, budgetRps),
    // The figure is what B–E wait during A's storm, not the controller's cold start.
    afterStart: (controller) => waitForControllerReady(controller.probeTargets()),
    // The other tenants start creating with the storm, and go on until it is over.
    async startWithStorm(kc, plan, refreshInterval) {
      neighbours = await startNeighbours(kc, plan, refreshInterval);
    },
    async run(ctx) {
      const others = neighbours as Neighbours;
      await ctx.waitFor("every one of tenant A's ExternalSecrets to be Ready", ctx.allReady);
      others.stop();
      const probesCreatedAt = await others.created;
      ctx.mark(`${probesCreatedAt.size} ExternalSecrets created by tenants B–E during tenant A's storm`);
      await ctx.waitFor("the other tenants' ExternalSecrets to be Ready", () => [...probesCreatedAt.keys()].every((k) => others.isReady(k)));
      return { converge: ctx.converge, probesCreatedAt };
    },
    records: (storm) => (neighbours ? neighbours.records(storm) : storm),
    close: () => neighbours?.close(),
  };
}
