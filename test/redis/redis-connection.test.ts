// Every Redis client Herdless opens — the scheduler's queues and term, a worker's BullMQ
// connection, the limiter's scripts — reaches each production topology through core's
// createRedisConnection: an ACL user, TLS with a client certificate, Sentinel, Cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'bullmq';
import {
  createLogger,
  createRedisConnection,
  leaderTermKey,
  parseRedisConfig,
  syncJobId,
  syncQueueName,
  type RedisConfig,
  type RedisConnection,
  type SyncJob,
} from '@herdless/core';
import { startRedisTopology, REDIS_TOPOLOGIES, type RedisTopology } from '@herdless/lab';
import { limiterParams, RedisRateLimiter } from '@herdless/providers';
import { SyncEnqueuer } from '@herdless/scheduler';

const logger = createLogger('test', 'silent');

describe.each(REDIS_TOPOLOGIES)('on Redis %s', (kind) => {
  let topology: RedisTopology;
  let config: RedisConfig;
  const opened: RedisConnection[] = [];
  const open = (use: 'bullmq' | 'commands') => {
    const c = createRedisConnection(config, use);
    opened.push(c);
    return c;
  };

  beforeAll(async () => {
    topology = await startRedisTopology(kind);
    config = parseRedisConfig(topology.settings);
  });
  afterAll(async () => {
    for (const c of opened) c.disconnect();
    await topology?.stop();
  });

  it('a job the scheduler enqueues runs on a worker, and the worker reads the published term', async () => {
    const prefix = `rc-${kind}`;
    const enqueuer = new SyncEnqueuer({ redis: config, prefix, shards: ['default'], logger });
    const ran: string[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const worker = new Worker(
      syncQueueName('default'),
      async (job) => {
        ran.push(job.id as string);
        done();
        return 'synced';
      },
      { connection: open('bullmq'), prefix },
    );
    try {
      const job: SyncJob = { namespace: 'ns', name: 'es', uid: 'uid-1', generation: 1, reason: 'new', plannedAt: Date.now(), providerKey: 'aws/123/eu-west-1', epoch: 3 };
      await enqueuer.enqueue(job, syncJobId(job), 'default');
      expect(await enqueuer.publishTerm({ epoch: 3, since: Date.now() })).toBe(true);
      await finished;
      expect(ran).toEqual([syncJobId(job)]);
      const term = await open('commands').get(leaderTermKey(prefix));
      expect(JSON.parse(term ?? '{}')).toMatchObject({ epoch: 3 });
    } finally {
      await worker.close();
      await enqueuer.close();
    }
  });

  it("the limiter's script admits calls on the configured Redis and holds the budget", async () => {
    const limiter = new RedisRateLimiter(open('commands'), { keyPrefix: `rc-${kind}` });
    const limits = limiterParams(5, { burst: 1, maxWaitMs: 0 });
    const decisions = [];
    for (let i = 0; i < 10; i++) decisions.push(await limiter.acquire('aws/123/eu-west-1', 'GetSecretValue', limits));
    const admitted = decisions.filter((d) => d.allowed).length;
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(admitted).toBeLessThan(10);
  });
});
