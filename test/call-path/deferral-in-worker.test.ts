// Issue 33: a job the rate limiter defers waits once. When its place in line is near, it waits
// for it in the worker instead of going back to BullMQ's delayed set and being fetched again
// (moveToDelayed, a marker wake-up and moveToActive: about 25 Redis commands a deferral).
// Four new specs are due at once at a budget of 2/s: the limiter admits one and gives the
// others places in line about half a second apart.
import { Redis } from 'ioredis';
import { DEFAULT_SHARD, syncQueueName } from '@herdless/core';
import { freeLoopbackPorts, scrapeLoopbackMetrics } from '@herdless/lab';
import type { SyncEnqueuer } from '@herdless/scheduler';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitUntil } from '../support/index.js';
import { peakOf, spawnAwsEndpoint, type SpawnedAwsEndpoint } from './support/endpoint.js';
import { adminClients, createFleet, enqueueRound, notReady, openEnqueuer, queueOf, runId, spawnWorkers, stopCallPathRun, type AdminClients, type Fleet, type HerdlessProcess } from './support/fleet.js';

const B = 2;
const JOBS = 4;
const run = runId();
const prefix = `cpd${run}`;

let admin: AdminClients;
let aws: SpawnedAwsEndpoint | undefined;
let enqueuer: SyncEnqueuer | undefined;
let fleet: Fleet | undefined;
let workers: HerdlessProcess[] = [];
let metricsPorts: number[] = [];

beforeAll(async () => {
  admin = adminClients(inject('kubeconfigPath'));
  aws = await spawnAwsEndpoint();
  await aws.setQuota('GetSecretValue', B, B);
  await aws.putSecrets(Array.from({ length: JOBS }, (_, i) => ({ name: `deferral-${run}/s-${i}`, secretString: `v${i}` })));
  enqueuer = openEnqueuer(inject('redisUrl'), prefix);
  metricsPorts = await freeLoopbackPorts(1);
  // The whole line (about 2 s at this budget) fits in the worker's wait, even re-asked on a loaded machine.
  workers = spawnWorkers(1, {
    redisUrl: inject('redisUrl'),
    kubeconfigPath: inject('kubeconfigPath'),
    queuePrefix: prefix,
    awsUrl: aws.url,
    budgets: `aws-sm=${B}`,
    concurrency: 10,
    metricsPorts,
    // One call a sync (no batching), so each sync asks the limiter on its own.
    extra: ['--defer-in-worker-ms', '30000', '--batching', 'never'],
  });
  fleet = await createFleet({ admin, aws, prefix: 'cp-deferral', service: 'SecretsManager', count: JOBS, keyOf: (i) => `deferral-${run}/s-${i}` });
}, 300_000);

afterAll(() => stopCallPathRun({ workers, enqueuer, aws, fleet }));

describe('a job the limiter defers', () => {
  it('waits for its place in line in the worker: deferred, yet never moved back to delayed', async () => {
    const f = fleet as Fleet;
    const queue = queueOf(enqueuer as SyncEnqueuer);
    await enqueueRound(queue, f, 'new');
    await waitUntil(
      async () => ((await notReady(admin, f)).names.length === 0 ? true : undefined),
      120_000,
      () => `${JOBS} ExternalSecrets Ready`,
    );

    const calls = await (aws as SpawnedAwsEndpoint).requests({ operation: 'GetSecretValue' });
    expect(peakOf(calls).throttled).toBe(0);
    expect(calls.filter((c) => c.outcome === 'ok')).toHaveLength(JOBS);
    // The limiter did defer (the budget binds: 4 due at once at 2/s) ...
    const [text] = await scrapeLoopbackMetrics(metricsPorts);
    const deferred = [...(text ?? '').matchAll(/^herdless_syncs_total\{result="throttled",reason="ProviderThrottled"\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(deferred).toBeGreaterThanOrEqual(1);
    // ... and no job went back to the queue's delayed set (BullMQ's "delayed" event; these jobs
    // were added without a delay, so only moveToDelayed writes one).
    const redis = new Redis(inject('redisUrl'));
    const events = await redis.xrange(`${prefix}:${syncQueueName(DEFAULT_SHARD)}:events`, '-', '+').finally(() => redis.disconnect());
    const delayed = events.filter(([, fields]) => fields[0] === 'event' && fields[1] === 'delayed');
    expect(delayed).toHaveLength(0);
  });
});
