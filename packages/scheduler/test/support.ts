// Helpers for the scheduler's integration tests: a scheduler config on the shared control
// plane and Redis, ExternalSecret fixtures, and reading what reached the queue.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createLogger, EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, loadConfig, mergePatch, PLURALS, toKubeTime } from '@herdless/core';
import { schedulerConfigSchema, type SchedulerConfig } from '../src/index.js';
import { createNamespace, createSecretStore, deleteNamespace, injected, type SchedulerReplicas } from '../../../test/support/index.js';

export const logger = createLogger('scheduler-test', process.env.TEST_LOG_LEVEL ?? 'warn');

/** Writes the status a sync writes (refreshTime `atMs`, Ready=True), as the worker would: the tests that play the worker. */
export async function writeSyncedStatus(kc: KubeConfig, namespace: string, job: { name: string; generation: number }, atMs = Date.now()): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObjectStatus(
    {
      group: EXTERNAL_SECRETS_GROUP,
      version: EXTERNAL_SECRETS_VERSION,
      plural: PLURALS.ExternalSecret,
      namespace,
      name: job.name,
      body: {
        status: {
          refreshTime: toKubeTime(atMs),
          syncedResourceVersion: String(job.generation),
          conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced', message: 'synced', lastTransitionTime: toKubeTime(atMs) }],
        },
      },
    },
    mergePatch,
  );
}

/** Stops what a leader-session test started, even after a failure: sessions, its worker, informers, the enqueuer, the namespace. */
export async function stopSessionSuite(kc: KubeConfig, namespace: string, parts: { sessions: ReadonlyArray<{ abort: AbortController; done: Promise<void> }>; worker: { close(): Promise<void> } | undefined; informers: ReadonlyArray<{ stop(): Promise<void> }>; enqueuer: { close(): Promise<void> } }): Promise<void> {
  for (const s of parts.sessions) s.abort.abort();
  await Promise.allSettled(parts.sessions.map((s) => s.done));
  await parts.worker?.close();
  await Promise.allSettled(parts.informers.map((i) => i.stop()));
  await parts.enqueuer.close();
  await deleteNamespace(kc, namespace);
}

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
