// The scheduler's metrics: planned versus available provider calls per provider key and
// operation (the overload signal), syncs planned after their deadline, plan size, leadership and
// queue depth per lane.
// Labels are identities (provider keys), never values.
import type { KubernetesObject } from '@kubernetes/client-node';
import { Counter, Gauge, setObjectMetrics, setStatusConditionSource } from '@herdless/core';
import type { QueueDepth } from '../queue/enqueuer.js';
import { CapacityPlacement } from '../planning/placement/capacity-placement.js';
import type { Planner } from '../planning/planner.js';

export const plannedCalls = new Gauge({
  name: 'herdless_planner_planned_calls',
  help: 'Provider calls planned in the next 60 s, per provider key and operation.',
  labelNames: ['provider_key', 'operation'],
});
export const availableCalls = new Gauge({
  name: 'herdless_planner_available_calls',
  help: 'Provider calls the budget allows in the next 60 s, per provider key and operation.',
  labelNames: ['provider_key', 'operation'],
});
export const lateSyncs = new Gauge({
  name: 'herdless_planner_late_syncs',
  help: 'Planned syncs that run after their refresh deadline (overload or recovery), per provider key.',
  labelNames: ['provider_key'],
});
export const plannedJobs = new Gauge({ name: 'herdless_planner_planned_jobs', help: 'Syncs the leader has planned and not yet seen done.' });
export const backlogSeconds = new Gauge({
  name: 'herdless_planner_backlog_seconds',
  help:
    'Seconds until the new, changed and catch-up syncs planned and not yet seen done would clear at the share of the budget routine work leaves them (the longest of the plan shards this process plans; 0 when none). Re-spread refreshes are planned behind it.',
});

export const movedRefreshes = new Counter({
  name: 'herdless_planner_moved_refreshes_total',
  help: 'Re-spread refreshes moved behind a backlog of new specs or catch-up that outlasted them.',
});
const movedSeen = new WeakMap<Planner, number>();
// Per namespace only for the namespaces the operator names in --namespace-weights or
// --namespace-caps: bounded by the configuration, not by the tenants.
export const namespacePlannedCalls = new Gauge({
  name: 'herdless_planner_namespace_planned_calls',
  help: 'Provider calls planned in the next 60 s per provider key, operation and namespace, for the namespaces named in --namespace-weights or --namespace-caps.',
  labelNames: ['provider_key', 'operation', 'namespace'],
});
export const namespaceCappedSyncs = new Counter({
  name: 'herdless_planner_namespace_capped_syncs_total',
  help: "Syncs of a namespace placed later than the budget alone allowed because of the namespace's cap (--namespace-caps).",
  labelNames: ['namespace'],
});
export const fairShareMoves = new Counter({
  name: 'herdless_planner_fair_share_moves_total',
  help: "New or changed specs moved to the end of their namespace's backlog by another namespace's new spec (fair share inside a provider key).",
});
const fairSeen = new WeakMap<Planner, { moves: number; capped: Map<string, number> }>();

/**
 * Sets the planner gauges from every planner this process runs now: one with one leader, one per
 * held plan shard with sharding, whose figures are summed (each shard plans on its share of a
 * budget, so the replica's available calls are the sum of its shards' shares).
 */
export function recordPlannerMetrics(planners: Iterable<Planner>, now: number): void {
  let jobs = 0;
  let backlog = 0;
  const planned = new Map<string, { labels: { provider_key: string; operation: string }; n: number }>();
  const available = new Map<string, { labels: { provider_key: string; operation: string }; n: number }>();
  const late = new Map<string, number>();
  const byNamespace = new Map<string, { labels: { provider_key: string; operation: string; namespace: string }; n: number }>();
  const add = <L>(into: Map<string, { labels: L; n: number }>, labels: L, n: number) => {
    const key = JSON.stringify(labels);
    const entry = into.get(key);
    if (entry) entry.n += n;
    else into.set(key, { labels, n });
  };
  for (const planner of planners) {
    const moved = planner.movedBehindBacklog - (movedSeen.get(planner) ?? 0);
    if (moved > 0) movedRefreshes.inc(moved);
    movedSeen.set(planner, planner.movedBehindBacklog);
    for (const _ of planner.plannedJobs()) jobs++;
    const placement = planner.placement;
    if (!(placement instanceof CapacityPlacement)) continue;
    recordFairShare(planner, placement);
    placement.prune(now);
    const clear = placement.backlogHorizon(now);
    if (clear !== undefined) backlog = Math.max(backlog, clear - Math.floor(now / 1000));
    for (const r of placement.report(now, 60)) {
      const labels = { provider_key: r.providerKey, operation: r.operation };
      add(planned, labels, r.plannedCalls);
      add(available, labels, r.availableCalls);
    }
    for (const [key, count] of placement.lateByProviderKey()) late.set(key, (late.get(key) ?? 0) + count);
    for (const r of placement.namespaceReport(now, 60)) add(byNamespace, { provider_key: r.providerKey, operation: r.operation, namespace: r.namespace }, r.plannedCalls);
  }
  plannedJobs.set(jobs);
  backlogSeconds.set(backlog);
  plannedCalls.reset();
  availableCalls.reset();
  lateSyncs.reset();
  namespacePlannedCalls.reset();
  for (const { labels, n } of planned.values()) plannedCalls.set(labels, n);
  for (const { labels, n } of available.values()) availableCalls.set(labels, n);
  for (const [key, count] of late) lateSyncs.set({ provider_key: key }, count);
  for (const { labels, n } of byNamespace.values()) namespacePlannedCalls.set(labels, n);
}

function recordFairShare(planner: Planner, placement: CapacityPlacement): void {
  const seen = fairSeen.get(planner) ?? { moves: 0, capped: new Map<string, number>() };
  fairShareMoves.inc(planner.movedForFairShare - seen.moves);
  seen.moves = planner.movedForFairShare;
  for (const [namespace, n] of placement.fair.cappedSyncs) {
    namespaceCappedSyncs.inc({ namespace }, n - (seen.capped.get(namespace) ?? 0));
    seen.capped.set(namespace, n);
  }
  fairSeen.set(planner, seen);
}

/** BullMQ priority → the lane's name in metrics (core's LANE_PRIORITY). */
const LANE_NAMES: Record<number, string> = { 1: 'spec', 2: 'retry', 3: 'overdue', 4: 'refresh' };

export interface SchedulerMetricSources {
  isLeader(): boolean;
  leaseTransitions(): number | undefined;
  queueDepth(): Promise<QueueDepth[]>;
  externalSecrets(): Iterable<KubernetesObject>;
}

let sources: SchedulerMetricSources | undefined;

new Gauge({
  name: 'herdless_leader',
  help: '1 while this scheduler replica holds the Lease and plans, else 0. sum() over replicas should be 1.',
  collect() {
    this.set(sources?.isLeader() ? 1 : 0);
  },
});
new Gauge({
  name: 'herdless_leader_lease_transitions',
  help: "The Lease's leaseTransitions as this replica last read it: how often leadership has moved between replicas (the planning epoch).",
  collect() {
    this.reset();
    const n = sources?.leaseTransitions();
    if (n !== undefined) this.set(n);
  },
});
/** A gauge of the queues' depth, read from Redis at scrape time by the leader only (one report per cluster). */
function queueGauge(name: string, help: string, labelNames: string[], rows: (d: QueueDepth) => [Record<string, string>, number][]): void {
  new Gauge({
    name,
    help,
    labelNames,
    async collect() {
      this.reset();
      if (!sources?.isLeader()) return;
      for (const d of await sources.queueDepth()) for (const [labels, n] of rows(d)) this.set(labels, n);
    },
  });
}
queueGauge(
  'herdless_queue_jobs',
  'Sync jobs on the queues by shard and state (delayed, waiting, prioritized, active). Reported by the leader only.',
  ['shard', 'state'],
  (d) => Object.entries(d.byState).map(([state, n]) => [{ shard: d.shard, state }, n]),
);
queueGauge(
  'herdless_queue_ready_jobs',
  'Sync jobs ready to run now (waiting for a worker), by shard and lane (spec, retry, overdue, refresh). Reported by the leader only.',
  ['shard', 'lane'],
  (d) => Object.entries(d.byPriority).map(([priority, n]) => [{ shard: d.shard, lane: LANE_NAMES[Number(priority)] ?? priority }, n]),
);

/** Binds the scheduler's gauges (and ESO's status_condition, from the informer, while leading) to this replica. */
export function bindSchedulerMetrics(s: SchedulerMetricSources, objectMetrics: boolean): () => void {
  sources = s;
  setObjectMetrics(objectMetrics);
  setStatusConditionSource(() => (s.isLeader() ? s.externalSecrets() : undefined));
  return () => {
    if (sources !== s) return;
    sources = undefined;
    setStatusConditionSource(undefined);
  };
}
