// sharded: three scheduler replicas share the plan (--plan-shards 4); once the fleet is Ready
// and refreshing, the replica holding plan shard 0 is killed a quarter into the observed interval
// (the helpers and the figures it notes are in sharded-shards.ts).
import { LAB_NAMESPACE, SYSTEM_NAMESPACE } from '@herdless/lab';
import { LEASE_NAME } from '../contenders.js';
import { sleep, type Scenario } from './scenario.js';
import { planShardOf } from '@herdless/scheduler';
import { duplicatesNote, killOneShardHolder, plannedAgainNote, plannedJobsOf, SHARDED_PLAN_SHARDS } from './sharded-shards.js';

export function shardedScenario(): Scenario {
  return {
    async run(ctx) {
      const { settings, controller, world } = ctx;
      const ready = await ctx.waitFor('every ExternalSecret to be Ready', ctx.allReady);
      ctx.setPhase('steady');
      const start = Date.now();
      ctx.mark(`${ready ? 'all Ready' : `${ctx.observer.readyCount} Ready`}; observing the steady state, one scheduler replica to be killed`);
      await sleep(settings.observeMs / 4);
      const redisUrl = world.redis?.url ?? '';
      const before = await plannedJobsOf(controller.probeTargets().schedulerPorts);
      const killedAt = Date.now();
      const killNotes = await killOneShardHolder({
        kc: ctx.kc,
        namespace: SYSTEM_NAMESPACE,
        leaseName: LEASE_NAME,
        labNamespace: LAB_NAMESPACE,
        names: [...ctx.createdAt.keys()],
        kill: () => controller.killActive(),
        timeoutMs: 60_000,
      });
      for (const note of killNotes) ctx.mark(note);
      ctx.mark(await plannedAgainNote({ schedulerPorts: controller.probeTargets().schedulerPorts, before, killedAt, timeoutMs: Math.max(60_000, settings.observeMs / 2) }));
      ctx.mark(await duplicatesNote(redisUrl));
      await sleep(Math.max(0, start + settings.observeMs - Date.now()));
      ctx.mark(await duplicatesNote(redisUrl));
      // Which plan shards the late refreshes were in: the killed holder's, or every shard's.
      const missedGroups = { label: 'plan shard', of: (name: string) => String(planShardOf(LAB_NAMESPACE, name, SHARDED_PLAN_SHARDS)) };
      return { converge: ctx.converge, window: { startMs: start, endMs: Date.now() }, missedGroups };
    },
  };
}
