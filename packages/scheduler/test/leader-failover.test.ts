// Two schedulers on one Lease: one plans. When the leader stops, the other takes over within
// the lease timings, adopts what is on the queue, and enqueues nothing a second time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { leaderTermKey, leaderTermSchema } from '@herdless/core';
import { startScheduler, type SchedulerHandle } from '../src/index.js';
import { adminKubeConfig, createNamespace, deleteNamespace, injected, uniqueNamespace } from '../../../test/support/index.js';
import { createExternalSecret, createSecretStore, logger, readQueueFor, testConfig, uniquePrefix, waitFor, waitForLeaseRenewals } from './support.js';

describe('leader failover', () => {
  const kc = adminKubeConfig();
  const namespace = uniqueNamespace('sched-failover');
  const prefix = uniquePrefix('fo');
  const schedulers: SchedulerHandle[] = [];
  const uids: string[] = [];
  const readQueue = () => readQueueFor(prefix, namespace, () => uids);
  const redis = new Redis(injected('redisUrl'));
  const term = async () => leaderTermSchema.parse(JSON.parse((await redis.get(leaderTermKey(prefix))) ?? 'null'));

  beforeAll(async () => {
    await createNamespace(kc, namespace);
    await createSecretStore(kc, namespace);
  });

  afterAll(async () => {
    await Promise.allSettled(schedulers.map((s) => s.stop()));
    redis.disconnect();
    await deleteNamespace(kc, namespace);
  });

  it('one of two schedulers leads; after it stops the other takes over and nothing is enqueued twice', async () => {
    const config = (identity: string) => testConfig({ namespace, watchNamespace: namespace, queuePrefix: prefix, leaseName: 'failover', identity });
    const a = startScheduler(config('replica-a'), { logger });
    await waitFor('replica-a leads', () => a.isLeader() || undefined);
    const b = startScheduler(config('replica-b'), { logger });
    schedulers.push(a, b);
    await b.synced();

    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => createExternalSecret(kc, namespace, `es-${i}`)));
    uids.push(...created.map((c) => c.uid));
    await waitFor('20 jobs', async () => ((await readQueue()).jobs.length === 20 ? true : undefined));
    // The standby watches but never plans: two more rounds of the election, and it did not lead.
    await waitForLeaseRenewals(kc, namespace, 'failover', 'replica-a', 2);
    expect(b.isLeader()).toBe(false);
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    const epochA = a.epoch() as number;
    // Each term is published for the workers (core's supersededByTerm).
    await waitFor('term A', async () => ((await term()).epoch === epochA ? true : undefined));

    const stoppedAt = Date.now();
    await a.stop();
    await waitFor('replica-b leads', () => b.isLeader() || undefined, 15_000, 50);
    const takeoverMs = Date.now() - stoppedAt;
    // Released on stop, so the standby need not wait for the lease (6 s) to expire: a retry
    // period or so. Without the release this would take at least the lease duration.
    expect(takeoverMs).toBeLessThan(6000);
    expect(b.epoch()).toBe(epochA + 1);
    const termB = await waitFor('term B', async () => {
      const t = await term();
      return t.epoch === epochA + 1 ? t : undefined;
    });
    expect(termB.since).toBeGreaterThanOrEqual(stoppedAt);
    const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'failover', namespace });
    expect(lease.spec?.holderIdentity).toBe('replica-b');

    // The new leader plans a new ExternalSecret with its own epoch…
    const late = await createExternalSecret(kc, namespace, 'after-failover');
    uids.push(late.uid);
    const lateJob = await waitFor('the late job', async () => (await readQueue()).jobs.find((j) => j.data.uid === late.uid));
    expect(lateJob.data.epoch).toBe(epochA + 1);
    // …and adopted the first 20: each ExternalSecret was added exactly once, all from epoch A,
    // two rounds of the election into its term.
    await waitForLeaseRenewals(kc, namespace, 'failover', 'replica-b', 2);
    const view = await readQueue();
    expect(view.jobs).toHaveLength(21);
    expect(view.addedEvents).toHaveLength(21);
    expect(new Set(view.addedEvents).size).toBe(21);
    for (const { uid } of created) {
      const jobs = view.jobs.filter((j) => j.data.uid === uid);
      expect(jobs).toHaveLength(1);
      expect(jobs[0]?.data.epoch).toBe(epochA);
    }
  });
});
