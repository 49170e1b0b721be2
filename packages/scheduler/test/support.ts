// Helpers for the scheduler's integration tests: a scheduler config on the shared control
// plane and Redis, ExternalSecret fixtures, and reading what reached the queue.
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createLogger, loadConfig } from '@herdless/core';
import { schedulerConfigSchema, type SchedulerConfig } from '../src/index.js';
import { createNamespace, createSecretStore, deleteNamespace, injected, type SchedulerReplicas } from '../../../test/support/index.js';

export const logger = createLogger('scheduler-test', process.env.TEST_LOG_LEVEL ?? 'warn');

export function testConfig(over: Record<string, string> = {}): SchedulerConfig {
  const args = Object.entries({
    kubeconfig: injected('kubeconfigPath'),
    redisUrl: injected('redisUrl'),
    leaseDurationSeconds: '6',
    renewDeadlineSeconds: '4',
    retryPeriodSeconds: '1',
    logLevel: 'warn',
    ...over,
  }).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`, v]);
  return loadConfig(schedulerConfigSchema, args, {});
}

export {
  createExternalSecret,
  createSecretStore,
  readQueue,
  readQueueFor,
  uniquePrefix,
  waitFor,
  type QueueView,
} from '../../../test/support/index.js';
export { waitForLeaseRenewals, observedLeader } from '../../../test/support/index.js';


/**
 * The hooks of a suite of scheduler processes: its namespace and SecretStore before, the replicas'
 * logs after a failed test, and every replica stopped and the namespace deleted at the end.
 */
export function withReplicaSuite(kc: KubeConfig, namespace: string, replicas: SchedulerReplicas): void {
  beforeAll(async () => {
    await createNamespace(kc, namespace);
    await createSecretStore(kc, namespace);
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') replicas.printLogs(3_000);
  });

  afterAll(async () => {
    await replicas.stopAll();
    await deleteNamespace(kc, namespace);
  });
}
