// What the call-path acceptance tests share: a fleet of ExternalSecrets on the run's control
// plane (one namespace, one store, remote values on our AWS endpoint), sync jobs put on the
// queue directly with core's contract (these tests exercise the workers, not the planner),
// real `herdless worker` processes, and figures read from the endpoint's request log.
import { randomBytes } from 'node:crypto';
import { createLogger, parseRedisConfig, DEFAULT_SHARD, EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, LANE_PRIORITY, PLURALS, syncJobId, type SecretStore, type SyncJob, type SyncReason } from '@herdless/core';
import type { RequestRecord } from '@herdless/lab';
import { providerKeyOf } from '@herdless/providers';
import { JOB_RETENTION, SyncEnqueuer } from '@herdless/scheduler';
import { adminClients, listExternalSecrets, type AdminClients } from '../../e2e/support/kube.js';
import { spawnHerdless, type HerdlessProcess } from '../../e2e/support/processes.js';
import { createNamespace, deleteNamespace, uniqueNamespace, waitUntil } from '../../support/index.js';
import { adminKubeConfig } from '../../support/kube.js';

export interface FleetItem {
  name: string;
  uid: string;
  generation: number;
}

export interface Fleet {
  namespace: string;
  store: SecretStore;
  providerKey: string;
  items: FleetItem[];
}

export interface FleetOptions {
  admin: AdminClients;
  aws: { url: string; region: string };
  prefix: string;
  service: 'SecretsManager' | 'ParameterStore';
  count: number;
  /** The remote key ExternalSecret i reads. */
  keyOf: (i: number) => string;
  /** ExternalSecrets created at once (the API server takes ~900 creates/s on this machine). */
  concurrency?: number;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        out[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return out;
}

/** A namespace with a credentials Secret, a SecretStore "aws" and `count` ExternalSecrets (1h refresh). */
export async function createFleet(o: FleetOptions): Promise<Fleet> {
  const namespace = await createNamespace(adminKubeConfig(), uniqueNamespace(o.prefix));
  await o.admin.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'aws-credentials' }, stringData: { 'access-key-id': 'AKIDLAB', 'secret-access-key': 'lab-secret-key' } },
  });
  const spec = {
    provider: {
      aws: {
        service: o.service,
        region: o.aws.region,
        auth: {
          secretRef: {
            accessKeyIDSecretRef: { name: 'aws-credentials', key: 'access-key-id' },
            secretAccessKeySecretRef: { name: 'aws-credentials', key: 'secret-access-key' },
          },
        },
      },
    },
  };
  const base = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION };
  await o.admin.custom.createNamespacedCustomObject({
    ...base,
    plural: PLURALS.SecretStore,
    namespace,
    body: { apiVersion: `${EXTERNAL_SECRETS_GROUP}/v1`, kind: 'SecretStore', metadata: { name: 'aws', namespace }, spec },
  });
  const store = { metadata: { name: 'aws', namespace }, spec } as unknown as SecretStore;
  const items = await mapLimit(
    Array.from({ length: o.count }, (_, i) => i),
    o.concurrency ?? 24,
    async (i) => {
      const name = `es-${i}`;
      const created = (await o.admin.custom.createNamespacedCustomObject({
        ...base,
        plural: PLURALS.ExternalSecret,
        namespace,
        body: {
          apiVersion: `${EXTERNAL_SECRETS_GROUP}/v1`,
          kind: 'ExternalSecret',
          metadata: { name, namespace },
          spec: { refreshInterval: '1h', secretStoreRef: { name: 'aws', kind: 'SecretStore' }, data: [{ secretKey: 'value', remoteRef: { key: o.keyOf(i) } }] },
        },
      })) as { metadata: { uid: string; generation?: number } };
      return { name, uid: created.metadata.uid, generation: created.metadata.generation ?? 1 };
    },
  );
  return { namespace, store, providerKey: providerKeyOf({ store, storeKind: 'SecretStore', awsEndpoint: o.aws.url }), items };
}

/** The scheduler's enqueuer on the default shard: the test plays the planner's part. */
export function openEnqueuer(redisUrl: string, queuePrefix: string): SyncEnqueuer {
  return new SyncEnqueuer({ redis: parseRedisConfig({ redisUrl }), prefix: queuePrefix, shards: [DEFAULT_SHARD], logger: createLogger('test', 'silent') });
}

/** The BullMQ queue of the default shard (same connection and prefix as the scheduler's). */
export type SyncQueue = ReturnType<SyncEnqueuer['queue']>;
export const queueOf = (e: SyncEnqueuer): SyncQueue => e.queue(DEFAULT_SHARD);

/**
 * One sync job per item, due now, in the lane of `reason`, with the scheduler's job options
 * and deterministic ids: what a planning round that found them all due would enqueue.
 */
export async function enqueueRound(queue: SyncQueue, fleet: Fleet, reason: SyncReason, items: readonly FleetItem[] = fleet.items): Promise<void> {
  const plannedAt = Date.now();
  const jobs = items.map((it) => {
    const data: SyncJob = { namespace: fleet.namespace, name: it.name, uid: it.uid, generation: it.generation, reason, plannedAt, providerKey: fleet.providerKey, epoch: 0 };
    return { name: 'sync', data, opts: { jobId: syncJobId(data), priority: LANE_PRIORITY[reason], ...JOB_RETENTION } };
  });
  for (let i = 0; i < jobs.length; i += 500) await queue.addBulk(jobs.slice(i, i + 500));
}

const pendingCounts = (queue: SyncQueue): Promise<Record<string, number>> => queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'paused');

/** No job is waiting, prioritized, delayed or active. */
export async function queueEmpty(queue: SyncQueue): Promise<boolean> {
  return Object.values(await pendingCounts(queue)).every((n) => n === 0);
}

/** Waits until no job is waiting, prioritized, delayed or active. */
export async function waitForDrained(queue: SyncQueue, timeoutMs: number): Promise<void> {
  let last: Record<string, number> = {};
  await waitUntil(
    async () => {
      last = await pendingCounts(queue);
      return Object.values(last).every((n) => n === 0) ? true : undefined;
    },
    { what: 'the sync queue to drain', timeoutMs, intervalMs: 500, lastSeen: () => JSON.stringify(last) },
  );
}

/** Names of the fleet's ExternalSecrets that are not Ready=True, and the reasons seen. */
export async function notReady(admin: AdminClients, fleet: Fleet): Promise<{ names: string[]; reasons: Record<string, number> }> {
  const items = await listExternalSecrets(admin, fleet.namespace);
  const byName = new Map(items.map((i) => [i.name, i]));
  const names: string[] = [];
  const reasons: Record<string, number> = {};
  for (const it of fleet.items) {
    const s = byName.get(it.name);
    if (s?.ready === 'True') continue;
    names.push(it.name);
    const r = s?.reason ?? 'NoCondition';
    reasons[r] = (reasons[r] ?? 0) + 1;
  }
  return { names, reasons };
}

export interface WorkerOptions {
  redisUrl: string;
  kubeconfigPath: string;
  queuePrefix: string;
  awsUrl: string;
  budgets: string;
  concurrency?: number;
  extra?: string[];
  /** One /metrics port per worker (default: none served). */
  metricsPorts?: readonly number[];
}

export function spawnWorkers(n: number, o: WorkerOptions): HerdlessProcess[] {
  return Array.from({ length: n }, (_, i) =>
    spawnHerdless(`worker-${i + 1}`, [
      'worker',
      '--kubeconfig', o.kubeconfigPath,
      '--redis-url', o.redisUrl,
      '--queue-prefix', o.queuePrefix,
      '--aws-endpoint', o.awsUrl,
      '--budgets', o.budgets,
      '--concurrency', String(o.concurrency ?? 50),
      '--log-level', 'warn',
      ...(o.metricsPorts ? ['--metrics-port', String(o.metricsPorts[i])] : []),
      ...(o.extra ?? []),
    ]),
  );
}

/** The most requests in any one-second window [t, t + 1000) of the records (by arrival). */
export function maxSlidingWindow(records: readonly RequestRecord[], windowMs = 1000): number {
  const times = records.map((r) => r.atMs).sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while ((times[hi] as number) - (times[lo] as number) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export function runId(): string {
  return randomBytes(3).toString('hex');
}

export { adminClients, type AdminClients, type HerdlessProcess };

/** Stops what a call-path test started (workers, enqueuer, endpoint, fleet namespace), each even when another fails. */
export async function stopCallPathRun(run: { workers: readonly HerdlessProcess[]; enqueuer?: SyncEnqueuer | undefined; aws?: { stop(): Promise<void> } | undefined; fleet?: Fleet | undefined }): Promise<void> {
  await Promise.allSettled(run.workers.map((w) => w.stop()));
  await run.enqueuer?.close();
  await run.aws?.stop();
  if (run.fleet) await deleteNamespace(adminKubeConfig(), run.fleet.namespace).catch(() => undefined);
}
