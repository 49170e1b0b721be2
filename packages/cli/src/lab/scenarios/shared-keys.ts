// shared-keys: 40 % of the ExternalSecrets read one of 10 shared remote keys through a store of
// their own, intervals 30 s, 2 m and 10 m mixed, one quota key. After convergence and a warm-up,
// one observed window: calls per refresh for the shared and the unshared part, peak, throttled,
// on time (each ExternalSecret against its own interval).
import { parseGoDuration } from '@herdless/core';
import { LAB_NAMESPACE, planSharedKeysStorm, prepareNamespaceStore, SHARED_ACCESS_KEY_ID, SHARED_STORE, type SharedKeysShape, type StormPlan } from '@herdless/lab';
import { sleep, type Scenario } from './scenario.js';

export const SHARED_KEYS_SHAPE: SharedKeysShape = { share: 0.4, keys: 10, intervals: ['30s', '2m', '10m'] };

/** Before the window: every reader's first refresh after the storm is re-spread over its whole
 *  interval; the 2-minute readers come round once, so the groups have formed. */
const WARM_UP_MS = 120_000;

export function sharedKeysScenario(): Scenario {
  let plan: StormPlan | undefined;
  return {
    plan(settings) {
      plan = planSharedKeysStorm(settings.count, SHARED_KEYS_SHAPE, settings.seed);
      return plan;
    },
    async prepare(kc, region, budgetRps) {
      await prepareNamespaceStore(kc, region, LAB_NAMESPACE, budgetRps, { name: SHARED_STORE, accessKeyId: SHARED_ACCESS_KEY_ID, createNamespace: false });
    },
    async run(ctx) {
      await ctx.waitFor('every ExternalSecret to be Ready', ctx.allReady);
      ctx.setPhase('warm-up');
      ctx.mark(`all Ready; ${WARM_UP_MS / 1000} s before the observed window`);
      await sleep(WARM_UP_MS);
      ctx.setPhase('steady');
      ctx.mark('observing');
      const start = Date.now();
      await sleep(ctx.settings.observeMs);
      const names = new Set((plan?.items ?? []).filter((i) => i.store === SHARED_STORE).map((i) => i.name));
      return { converge: ctx.converge, window: { startMs: start, endMs: Date.now() }, sharedKeys: { names, accessKeyId: SHARED_ACCESS_KEY_ID } };
    },
    records(storm) {
      const intervals = new Map((plan?.items ?? []).map((i) => [i.name, i.refreshInterval === undefined ? undefined : parseGoDuration(i.refreshInterval)]));
      return new Map([...storm].map(([name, rec]) => {
        const refreshIntervalMs = intervals.get(name);
        return [name, refreshIntervalMs === undefined ? rec : { ...rec, refreshIntervalMs }];
      }));
    },
  };
}
