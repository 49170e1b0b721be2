// Helpers every integration and end-to-end test may import (`../support/index.js`).
export { injected, type LabContext } from './provided-context.js';
export { adminKubeConfig, controlPlaneAccess, uniqueNamespace, createNamespace, deleteNamespace, suiteNamespace } from './kube.js';
// The one wait, shared with the lab (it also fails fast when a watched server exits).
export { waitUntil } from '@herdless/lab';
export { waitForLeaseRenewals, observedLeader, planShardLeases } from './lease.js';
export { createExternalSecret, createSecretStore, readQueue, readQueueFor, uniquePrefix, waitFor, type QueueView } from './queue-fixtures.js';
export { exited, REPLICA_LEASE_NAME, REPLICA_TIMINGS, schedulerReplicas, type SchedulerReplicas } from './scheduler-replicas.js';
