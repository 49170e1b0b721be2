// @herdless/scheduler: the scheduler process (leader election, informers, the planner and the
// enqueuer) and the pieces other packages run on their own. The virtual-time simulator is not
// here: the bench imports it from @herdless/scheduler/simulation.
export { runScheduler, startScheduler, type SchedulerHandle, type SchedulerOptions } from './lifetime/scheduler.js';
export { schedulerConfigSchema, PLANNER_POLICIES, type SchedulerConfig, type PlannerPolicyName } from './config.js';
export { LeaderElector, type LeaderElectionOptions } from './lifetime/leader.js';
export { createExternalSecretsInformers, type ExternalSecretsInformers } from './lifetime/informers.js';
export { SyncEnqueuer, JOB_RETENTION, readQueuedJobs, type QueuedSyncJob } from './queue/enqueuer.js';
export { Dispatcher, groupHashOf, GROUP_LEAD_MS } from './queue/dispatcher.js';
export type { PlanChange, PlannedSync } from './planning/plan.js';
export { shardOf } from './session/session.js';
export type { Planner } from './planning/planner.js';
export { planShardOf, planShardLeaseName, PLAN_SHARD_LABEL } from './sharding/plan-shard.js';
export { BUDGETS_ANNOTATION, DEMAND_ANNOTATION } from './sharding/shard-share.js';
export { memberLeaseName, MEMBER_LABEL } from './lifetime/shard-campaign.js';
export { shardBudgets } from './sharding/shard-budgets.js';
