// A restart after an outage: the queue still holds routine jobs planned before it, long past
// their slots. The new leader replaces them with catch-up jobs (the planner's servesIntent);
// from the moment its term is published, a worker that meets one completes it without a call
// (core's supersededByTerm) instead of deferring thousands of them at the limiter. Everything
// else runs. Real Redis, the real control plane, the scheduler's own publishing code and an
// in-process worker on the queue.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { createLogger, parseRedisConfig, leaderTermKey, loadConfig, STALE_ROUTINE_MS, syncJobId, syncQueueName, type SyncJob } from '@herdless/core';
import { SyncEnqueuer } from '@herdless/scheduler';
import { runWorker, workerConfigSchema, type RunningWorker } from '@herdless/worker';
import { injected, waitUntil } from '../support/index.js';

const logger = createLogger('restart-test', process.env.TEST_LOG_LEVEL ?? 'warn');

describe('routine jobs left from before a restart', () => {
  const prefix = `rs${randomBytes(3).toString('hex')}`;
  const namespace = `gone-${randomBytes(3).toString('hex')}`;
  const redis = new Redis(injected('redisUrl'));
  const queue = new Queue(syncQueueName(), { connection: { url: injected('redisUrl') }, prefix });
  const events = new QueueEvents(syncQueueName(), { connection: { url: injected('redisUrl') }, prefix });
  const enqueuer = new SyncEnqueuer({ redis: parseRedisConfig({ redisUrl: injected('redisUrl') }), prefix, shards: ['default'], logger });
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await worker?.close();
    await Promise.allSettled([queue.close(), events.close(), enqueuer.close()]);
    redis.disconnect();
  });

  it('a worker completes the ones the new term replaces without a call, and runs every other job', async () => {
    const since = Date.now();
    const MIN = 60_000;
    // The ExternalSecrets do not exist: a job that runs reads it, finds it gone, and says so.
    const cases: Array<{ name: string; job: Pick<SyncJob, 'epoch' | 'plannedAt' | 'deadline' | 'reason' | 'planShard'>; expected: string }> = [
      { name: 'left-over', job: { reason: 'refresh', epoch: 1, plannedAt: since - 5 * MIN, deadline: since - 4 * MIN }, expected: 'superseded' },
      { name: 'this-term', job: { reason: 'refresh', epoch: 2, plannedAt: since - 5 * MIN, deadline: since - 4 * MIN }, expected: 'gone' },
      { name: 'failover-late', job: { reason: 'refresh', epoch: 1, plannedAt: since - STALE_ROUTINE_MS / 2, deadline: since - 10_000 }, expected: 'gone' },
      { name: 'not-due-yet', job: { reason: 'refresh', epoch: 1, plannedAt: since - 5 * MIN, deadline: since + MIN }, expected: 'gone' },
      { name: 'catch-up', job: { reason: 'overdue', epoch: 1, plannedAt: since - 5 * MIN, deadline: since - 4 * MIN }, expected: 'gone' },
      // Sharded planning: each plan shard's owner publishes its own term (its Lease's epochs), and
      // a job is judged by its shard's term only, never by the one leader's or another shard's.
      { name: 'shard-left-over', job: { reason: 'refresh', epoch: 6, planShard: 1, plannedAt: since - 5 * MIN, deadline: since - 4 * MIN }, expected: 'superseded' },
      { name: 'shard-this-term', job: { reason: 'refresh', epoch: 7, planShard: 1, plannedAt: since - 5 * MIN, deadline: since - 4 * MIN }, expected: 'gone' },
      { name: 'shard-no-term', job: { reason: 'refresh', epoch: 1, planShard: 2, plannedAt: since - 5 * MIN, deadline: since - 4 * MIN }, expected: 'gone' },
    ];
    const results = new Map<string, string>();
    events.on('completed', ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => results.set(jobId, String(returnvalue)));
    const ids = new Map<string, string>();
    for (const [i, c] of cases.entries()) {
      const data: SyncJob = { namespace, name: c.name, uid: `00000000-0000-4000-8000-00000000000${i}`, generation: 1, providerKey: 'aws-sm|us-east-1|default|', ...c.job };
      const id = syncJobId(data);
      ids.set(c.name, id);
      await queue.add('sync', data, { jobId: id });
    }
    // Term 2 began at `since`; a deposed leader of term 1 publishing late does not hide it.
    expect(await enqueuer.publishTerm({ epoch: 2, since })).toBe(true);
    expect(await enqueuer.publishTerm({ epoch: 1, since: since + 1000 })).toBe(false);
    expect(JSON.parse((await redis.get(leaderTermKey(prefix))) as string)).toEqual({ epoch: 2, since });
    // Plan shard 1's owner began term 7 at `since` (its Lease's transitions, unrelated to the one leader's).
    expect(await enqueuer.publishTerm({ epoch: 7, since }, 1)).toBe(true);
    expect(JSON.parse((await redis.get(leaderTermKey(prefix, 1))) as string)).toEqual({ epoch: 7, since });

    const config = loadConfig(workerConfigSchema, ['--kubeconfig', injected('kubeconfigPath'), '--redis-url', injected('redisUrl'), '--queue-prefix', prefix, '--log-level', 'warn']);
    worker = await runWorker(config, {
      logger,
      // No job here reaches a store: the ExternalSecrets are gone, and the superseded one is not run.
      providers: () => Promise.reject(new Error('expected no provider call')),
    });
    await waitUntil(() => (results.size >= cases.length ? true : undefined), 20_000, () => `a result for each of ${cases.length} jobs; last seen ${JSON.stringify(Object.fromEntries(results))}`);
    expect(Object.fromEntries(cases.map((c) => [c.name, results.get(ids.get(c.name) as string)]))).toEqual(Object.fromEntries(cases.map((c) => [c.name, c.expected])));
  });
});
