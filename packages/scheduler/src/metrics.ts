// The planner's metrics: planned versus available provider calls per provider key and
// operation (the overload signal), syncs planned after their deadline, and plan size.
// Labels are identities (provider keys), never values.
import { Counter, Gauge } from '@herdless/core';
import { CapacityPlacement } from './capacity-placement.js';
import type { Planner } from './planner.js';

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

export const movedRefreshes = new Counter({
  name: 'herdless_planner_moved_refreshes_total',
  help: 'Re-spread refreshes moved behind a backlog of new specs or catch-up that outlasted them.',
});
const movedSeen = new WeakMap<Planner, number>();

export function recordPlannerMetrics(planner: Planner, placement: unknown, now: number): void {
  const moved = planner.movedBehindBacklog - (movedSeen.get(planner) ?? 0);
  if (moved > 0) movedRefreshes.inc(moved);
  movedSeen.set(planner, planner.movedBehindBacklog);
  let n = 0;
  for (const _ of planner.plannedJobs()) n++;
  plannedJobs.set(n);
  if (!(placement instanceof CapacityPlacement)) return;
  placement.prune(now);
  plannedCalls.reset();
  availableCalls.reset();
  for (const r of placement.report(now, 60)) {
    plannedCalls.set({ provider_key: r.providerKey, operation: r.operation }, r.plannedCalls);
    availableCalls.set({ provider_key: r.providerKey, operation: r.operation }, r.availableCalls);
  }
  lateSyncs.reset();
  for (const [key, count] of placement.lateByProviderKey()) lateSyncs.set({ provider_key: key }, count);
}
