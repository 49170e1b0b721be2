// A new leader's queue scan against a job that moves while it is read. The workers send a job
// the limiter defers from active back to delayed, so a scan that reads the states one after the
// other (delayed, waiting, prioritized, active) can find it in none of them — and the new leader
// enqueues the ExternalSecret's spec a second time (seen in loaded leader-kill runs). Here a real
// BullMQ worker bounces one job between active and delayed as fast as Redis lets it, behind a
// queue of 2,000 delayed jobs that makes each state read take a while; every scan must find it.
import { afterAll, expect, it } from 'vitest';
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { SYNC_GROUP_JOB_NAME, syncQueueName, type SyncJob } from '@herdless/core';
import { SyncEnqueuer } from '../src/index.js';
import { logger, testConfig, uniquePrefix } from './support.js';

const prefix = uniquePrefix('snap');
const config = testConfig({ queuePrefix: prefix });
const connection = { url: config.redisUrl };
const enqueuer = new SyncEnqueuer({ redis: config, prefix, shards: ['default'], logger });
const queue = new Queue<SyncJob>(syncQueueName('default'), { connection, prefix });
let worker: Worker<SyncJob> | undefined;

afterAll(async () => {
  await worker?.close(true);
  await queue.obliterate({ force: true });
  await queue.close();
  await enqueuer.close();
});

const job = (uid: string, plannedAt: number): SyncJob => ({
  namespace: 'ns', name: uid, uid, generation: 1, reason: 'new', plannedAt, providerKey: 'aws-sm|us-east-1|default|', epoch: 1,
});

it('every scan finds a job that bounces between active and delayed while the scan runs', async () => {
  const far = Date.now() + 3_600_000;
  await queue.addBulk(Array.from({ length: 2_000 }, (_, i) => ({ name: 'sync', data: job(`filler-${i}`, far), opts: { jobId: `filler-${i}.g1.spec.1`, delay: 3_600_000 } })));
  await queue.add('sync', job('bouncer', Date.now()), { jobId: 'bouncer.g1.spec.1' });
  let bounces = 0;
  // What the worker does with a job the limiter defers: back to delayed, due again at once.
  worker = new Worker<SyncJob>(
    syncQueueName('default'),
    async (j: Job<SyncJob>, token?: string) => {
      bounces += 1;
      await j.moveToDelayed(Date.now() + 1, token);
      throw new DelayedError();
    },
    { connection, prefix, concurrency: 1 },
  );
  // At least 60 scans, and on until the job has bounced 60 times while they ran (a scan is
  // slower than a bounce or faster, depending on the machine's load).
  const missed: number[] = [];
  let scans = 0;
  for (; scans < 2_000 && (scans < 60 || bounces < 60); scans += 1) {
    const found = await enqueuer.pendingJobs();
    if (!found.some((j) => j.id === 'bouncer.g1.spec.1')) missed.push(scans);
  }
  expect(bounces, 'the job bounced while the queue was scanned').toBeGreaterThanOrEqual(60);
  expect(missed, `scans (of ${scans}) that found the bouncing job in no state (${bounces} bounces)`).toEqual([]);
});

it('a scan with keep returns only the jobs and group members it keeps', async () => {
  const at = Date.now() + 3_600_000;
  const of = (namespace: string, name: string): SyncJob => ({ ...job(`${namespace}-${name}`, at), namespace, name });
  await queue.add('sync', of('kept', 'a'), { jobId: 'kept-a.g1.spec.1', delay: 3_600_000 });
  await queue.add('sync', of('other', 'b'), { jobId: 'other-b.g1.spec.1', delay: 3_600_000 });
  const members = [
    { id: 'kept-c.g1.refresh.1', job: of('kept', 'c') },
    { id: 'other-d.g1.refresh.1', job: of('other', 'd') },
  ];
  await queue.add(SYNC_GROUP_JOB_NAME, { members } as unknown as SyncJob, { jobId: 'group.test.1', delay: 3_600_000 });
  const all = (await enqueuer.pendingJobs()).map((j) => j.id);
  expect(all, 'without keep').toEqual(expect.arrayContaining(['kept-a.g1.spec.1', 'other-b.g1.spec.1', 'kept-c.g1.refresh.1', 'other-d.g1.refresh.1']));
  const kept = (await enqueuer.pendingJobs((namespace) => namespace === 'kept')).map((j) => j.id).sort();
  expect(kept).toEqual(['kept-a.g1.spec.1', 'kept-c.g1.refresh.1']);
});
