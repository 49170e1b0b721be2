// @herdless/scheduler: leader election, informers, the planner and the enqueuer.
export { runScheduler, startScheduler, type SchedulerHandle, type SchedulerOptions } from './scheduler.js';
export { schedulerConfigSchema, PLANNER_POLICIES, type SchedulerConfig, type PlannerPolicyName } from './config.js';
export * from './planner.js';
export * from './plan-item.js';
export { createPlanner, EsoPlacement, esoRetryDelayMs, seededRandom, type PolicyConfig } from './policies.js';
export { CapacityPlacement, budgetKeyOf, type CapacityOptions, type CapacityReport } from './capacity-placement.js';
export { SlotCalendar } from './slot-calendar.js';
export { simulateFleet, peakAndMean, fleetItem, VIRTUAL_T0, type VirtualFleet, type FleetStart, type SimulationOptions, type SimulationResult } from './virtual-fleet.js';
export * from './budgets.js';
export { LeaderElector, type LeaderElectionOptions } from './leader.js';
export { SyncEnqueuer, JOB_RETENTION, type QueuedSyncJob } from './enqueuer.js';
export { createExternalSecretsInformers, type ExternalSecretsInformers } from './informers.js';
export { shardOf } from './session.js';
