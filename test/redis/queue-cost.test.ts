// What the queue side costs Redis, counted by Redis itself (INFO commandstats on a private
// redis-server, so no other client's commands are counted): the commands a sync's job costs
// are most of Herdless's Redis load, and a job that waits or is cancelled for nothing is a herd
// in our own queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'bullmq';
import { createLogger, createRedisConnection, parseRedisConfig, syncJobId, syncQueueName, type RedisConfig, type RedisConnection, type SyncJob } from '@herdless/core';
import { startRedis, type RedisServer } from '@herdless/lab';
import { SyncEnqueuer } from '@herdless/scheduler';

const logger = createLogger('test', 'silent');

/** Calls per command (Lua scripts' own commands included, as Redis counts them). */
async function commandCalls(redis: RedisConnection): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1] as string, Number(m[2]));
  return calls;
}

/** Commands Redis ran while `run` ran, by command, without the INFO that reads them. */
async function commandsDuring(redis: RedisConnection, run: () => Promise<unknown>): Promise<Map<string, number>> {
  const before = await commandCalls(redis);
  await run();
  const after = await commandCalls(redis);
  const during = new Map<string, number>();
  for (const [name, n] of after) {
    const d = n - (before.get(name) ?? 0) - (name === 'info' ? 1 : 0);
    if (d > 0) during.set(name, d);
  }
  return during;
}

describe('the queue side of a sync, in Redis commands', () => {
  let server: RedisServer;
  let config: RedisConfig;
  let probe: RedisConnection;

  beforeAll(async () => {
    server = await startRedis();
    config = parseRedisConfig({ redisUrl: server.url });
    probe = createRedisConnection(config, 'commands');
  });
  afterAll(async () => {
    probe?.disconnect();
    await server?.stop();
  });

  const jobOf = (uid: string, plannedAt: number): SyncJob => ({ namespace: 'ns', name: uid, uid, generation: 1, reason: 'new', plannedAt, providerKey: 'aws/123/eu-west-1', epoch: 1 });

  it('cancelling the job of a sync that already ran costs one command, not a removeJob script', async () => {
    const prefix = 'cost-cancel';
    const enqueuer = new SyncEnqueuer({ redis: config, prefix, shards: ['default'], logger });
    let ran!: () => void;
    const finished = new Promise<void>((resolve) => (ran = resolve));
    const connection = createRedisConnection(config, 'bullmq');
    const worker = new Worker(syncQueueName('default'), async () => 'synced', { connection, prefix });
    worker.on('completed', () => ran());
    try {
      const job = jobOf('uid-ran', Date.now());
      await enqueuer.enqueue(job, syncJobId(job), 'default');
      await finished;
      await worker.close();
      let cancelled: boolean | undefined;
      const during = await commandsDuring(probe, async () => (cancelled = await enqueuer.cancel(syncJobId(job), 'default')));
      expect(Object.fromEntries(during)).toEqual({ exists: 1 });
      expect(cancelled).toBe(false);
    } finally {
      await worker.close();
      await enqueuer.close();
      connection.disconnect();
    }
  });

  it('cancelling a pending job still removes it', async () => {
    const prefix = 'cost-pending';
    const enqueuer = new SyncEnqueuer({ redis: config, prefix, shards: ['default'], logger });
    try {
      const job = jobOf('uid-pending', Date.now() + 3_600_000);
      await enqueuer.enqueue(job, syncJobId(job), 'default');
      expect(await enqueuer.stateOf(syncJobId(job), 'default')).toBe('delayed');
      expect(await enqueuer.cancel(syncJobId(job), 'default')).toBe(true);
      expect(await enqueuer.stateOf(syncJobId(job), 'default')).toBe('unknown');
    } finally {
      await enqueuer.close();
    }
  });
});
