// ExternalSecret and SecretStore fixtures for the scheduler's, the chaos and the call-path tests,
// what reached a queue (its jobs and its events stream), and waitFor (the one waitUntil, for
// probes that answer false while not done).
import { randomBytes } from 'node:crypto';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, syncQueueName } from '@herdless/core';
import { waitUntil } from '@herdless/lab';
import { injected } from './provided-context.js';

export const uniquePrefix = (name: string): string => `${name}${randomBytes(3).toString('hex')}`;

export async function createExternalSecret(kc: KubeConfig, namespace: string, name: string, spec: Record<string, unknown> = {}): Promise<{ uid: string; generation: number }> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const created = (await custom.createNamespacedCustomObject({
    group: EXTERNAL_SECRETS_GROUP,
    version: EXTERNAL_SECRETS_VERSION,
    plural: 'externalsecrets',
    namespace,
    body: {
      apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`,
      kind: 'ExternalSecret',
      metadata: { name, namespace },
      spec: {
        refreshInterval: '1h',
        secretStoreRef: { name: 'store', kind: 'SecretStore' },
        target: { name },
        data: [{ secretKey: 'password', remoteRef: { key: `app/${name}` } }],
        ...spec,
      },
    },
  })) as { metadata: { uid: string; generation: number } };
  return { uid: created.metadata.uid, generation: created.metadata.generation };
}

export async function createSecretStore(kc: KubeConfig, namespace: string, name = 'store'): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: EXTERNAL_SECRETS_GROUP,
    version: EXTERNAL_SECRETS_VERSION,
    plural: 'secretstores',
    namespace,
    body: {
      apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`,
      kind: 'SecretStore',
      metadata: { name, namespace },
      spec: { provider: { aws: { service: 'SecretsManager', region: 'us-east-1' } } },
    },
  });
}

export interface QueueView {
  jobs: Array<{ id: string; priority: number; delay: number; data: Record<string, unknown>; state: string }>;
  /** 'added' events on the queue's event stream, by job id: each add of a new job is one. */
  addedEvents: string[];
  duplicatedEvents: string[];
}

/** The queue as seen by one test: only jobs and events of ExternalSecrets in `namespace` (schedulers watch every namespace). */
export async function readQueueFor(prefix: string, namespace: string, uids: () => Iterable<string>): Promise<QueueView> {
  const v = await readQueue(prefix);
  const mine = new Set(uids());
  return {
    jobs: v.jobs.filter((j) => j.data.namespace === namespace),
    addedEvents: v.addedEvents.filter((id) => mine.has(id.split('.')[0] ?? '')),
    duplicatedEvents: v.duplicatedEvents.filter((id) => mine.has(id.split('.')[0] ?? '')),
  };
}

export async function readQueue(prefix: string, shard = 'default'): Promise<QueueView> {
  const url = injected('redisUrl');
  const queue = new Queue(syncQueueName(shard), { connection: { url }, prefix });
  const redis = new Redis(url);
  try {
    const jobs = [];
    for (const state of ['delayed', 'waiting', 'prioritized', 'active'] as const) {
      for (const j of await queue.getJobs([state], 0, -1, true)) {
        if (j?.id) jobs.push({ id: j.id, priority: j.opts.priority ?? 0, delay: j.opts.delay ?? 0, data: j.data as Record<string, unknown>, state });
      }
    }
    const entries = (await redis.xrange(`${prefix}:${syncQueueName(shard)}:events`, '-', '+')) as Array<[string, string[]]>;
    const addedEvents: string[] = [];
    const duplicatedEvents: string[] = [];
    for (const [, fields] of entries) {
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
      if (f.event === 'added' && f.jobId) addedEvents.push(f.jobId);
      if (f.event === 'duplicated' && f.jobId) duplicatedEvents.push(f.jobId);
    }
    return { jobs, addedEvents, duplicatedEvents };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** The suite's one waitUntil, for probes that answer false while not done. */
export function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  return waitUntil(
    async () => {
      const v = await probe();
      return v === false ? undefined : v;
    },
    { what, timeoutMs, intervalMs: everyMs },
  );
}

