// A new leader's adoption against a job that finished in between: the job completed (its status
// written first, as the worker does) after the new leader's informers synced and before its queue
// scan, and the status write has not reached its cache. The queue no longer holds the job and
// the cache still shows the ExternalSecret unsynced; the leader must not plan its spec a second
// time. The interleaving is made, not waited for: the standby's ExternalSecret informer is
// stopped (its cache kept) while a real BullMQ worker runs the job, and started again after the
// new leader's first pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker, type Job } from 'bullmq';
import { syncQueueName, type SyncJob } from '@herdless/core';
import { createExternalSecretsInformers, SyncEnqueuer, type ExternalSecretsInformers } from '../src/index.js';
import { createPlanner } from '../src/planning/policies.js';
import { runLeaderSession } from '../src/session/session.js';
import { readExternalSecretVersions } from '../src/session/server-versions.js';
import { adminKubeConfig, createNamespace, injected, uniqueNamespace } from '../../../test/support/index.js';
import { createExternalSecret, createSecretStore, logger, readQueue, stopSessionSuite, testConfig, uniquePrefix, waitFor, writeSyncedStatus } from './support.js';

describe('a new leader and a job that completed before its queue scan', () => {
  const kc = adminKubeConfig();
  const namespace = uniqueNamespace('sched-adopt');
  const prefix = uniquePrefix('adopt');
  const config = testConfig({ namespace, watchNamespace: namespace, queuePrefix: prefix });
  const enqueuer = new SyncEnqueuer({ redis: config, prefix, shards: ['default'], logger });
  const informers: ExternalSecretsInformers[] = [];
  const sessions: Array<{ abort: AbortController; done: Promise<void> }> = [];
  let worker: Worker | undefined;

  const startSession = (epoch: number, from: ExternalSecretsInformers, onPlanned: () => void, sweepIntervalMs?: number) => {
    const abort = new AbortController();
    const done = runLeaderSession({
      epoch,
      signal: abort.signal,
      informers: from,
      enqueuer,
      planner: createPlanner(config),
      shards: ['default'],
      logger,
      serverVersions: (wanted) => readExternalSecretVersions(kc, wanted, namespace),
      onPlanned,
      ...(sweepIntervalMs === undefined ? {} : { sweepIntervalMs }),
    });
    sessions.push({ abort, done });
    return { abort, done };
  };
  const startInformers = async () => {
    const i = createExternalSecretsInformers(kc, logger, namespace);
    informers.push(i);
    await i.start();
    await i.synced();
    return i;
  };
  /** A worker that runs each job as Herdless's does, as far as the scheduler can see: the status, then done. */
  const syncingWorker = () =>
    new Worker(
      syncQueueName('default'),
      async (job: Job<SyncJob>) => writeSyncedStatus(kc, namespace, job.data),
      { connection: { url: injected('redisUrl') }, prefix },
    );
  const jobsOf = async (uid: string) => (await readQueue(prefix)).jobs.filter((j) => j.data.uid === uid);
  const addedOf = async (uid: string) => (await readQueue(prefix)).addedEvents.filter((id) => id.startsWith(`${uid}.`));

  beforeAll(async () => {
    await createNamespace(kc, namespace);
    await createSecretStore(kc, namespace);
  });

  afterAll(() => stopSessionSuite(kc, namespace, { sessions, worker, informers, enqueuer }));

  it('plans no second spec sync; the status, once the informer delivers it, brings a routine refresh', async () => {
    // The old leader plans the new ExternalSecret and is gone (its job stays on the queue).
    const done = await createExternalSecret(kc, namespace, 'done-in-between');
    const oldLeader = startSession(1, await startInformers(), () => undefined);
    const [oldJob] = await waitFor('the old leader\'s job', async () => {
      const jobs = await jobsOf(done.uid);
      return jobs.length === 1 ? jobs : undefined;
    });
    oldLeader.abort.abort();
    await oldLeader.done;
    expect(oldJob?.data.reason).toBe('new');

    // Created after the old leader: on no queue, and new for real. It must still be planned.
    const fresh = await createExternalSecret(kc, namespace, 'new-for-real');
    const standby = await startInformers();
    await waitFor('the standby sees both', () => (standby.externalSecrets.list().length === 2 ? true : undefined));
    // The standby's cache stops here: it holds both ExternalSecrets without a status.
    await standby.externalSecrets.stop();

    // A worker runs the old leader's job: the status first, then the job completes (and is removed).
    worker = syncingWorker();
    await waitFor('the job done and gone', async () => ((await enqueuer.stateOf(oldJob!.id, 'default')) === 'unknown' ? true : undefined));
    await worker.close();
    worker = undefined;

    // The new leader: its queue scan finds nothing for either, its cache shows both unsynced.
    let passes = 0;
    startSession(2, standby, () => passes++);
    await waitFor('the first planning pass', () => (passes > 0 ? true : undefined));
    const freshJobs = await waitFor('the new ExternalSecret\'s job', async () => {
      const jobs = await jobsOf(fresh.uid);
      return jobs.length === 1 ? jobs : undefined;
    });
    expect(freshJobs[0]?.data.reason).toBe('new');
    expect(await jobsOf(done.uid), 'a spec sync planned again for an ExternalSecret synced in between').toEqual([]);

    // The informer catches up: the synced status arrives and the next sync is a routine refresh.
    await standby.externalSecrets.start();
    const [refresh] = await waitFor('the refresh', async () => {
      const jobs = await jobsOf(done.uid);
      return jobs.length === 1 ? jobs : undefined;
    });
    expect(refresh?.data.reason).toBe('refresh');
    expect((await addedOf(done.uid)).sort()).toEqual([oldJob!.id, refresh!.id].sort());
  });

  it('the sweep leaves a job that completed before the cache saw its status to the informer, and plans no second spec sync', async () => {
    for (const session of sessions.splice(0)) {
      session.abort.abort();
      await session.done;
    }
    const synced = await createExternalSecret(kc, namespace, 'done-before-the-sweep');
    const cache = await startInformers();
    // The enqueuer's own answers, recorded: when the sweep asked about this ExternalSecret's jobs.
    const answers: string[] = [];
    const stateOf = enqueuer.stateOf.bind(enqueuer);
    enqueuer.stateOf = async (id, shard) => {
      const state = await stateOf(id, shard);
      if (id.startsWith(`${synced.uid}.`)) answers.push(state);
      return state;
    };
    try {
      startSession(3, cache, () => undefined, 300);
      const [job] = await waitFor('its job', async () => {
        const jobs = await jobsOf(synced.uid);
        return jobs.length === 1 ? jobs : undefined;
      });
      await cache.externalSecrets.stop();
      worker = syncingWorker();
      await waitFor('the job done and gone', async () => ((await enqueuer.stateOf(job!.id, 'default')) === 'unknown' ? true : undefined));
      await worker.close();
      worker = undefined;
      // Two sweeps asked about its jobs since: the first one's decision is made.
      answers.length = 0;
      await waitFor('two sweeps', () => (answers.length >= 2 ? true : undefined), 30_000);
      await cache.externalSecrets.start();
      const [refresh] = await waitFor('the refresh', async () => {
        const jobs = await jobsOf(synced.uid);
        return jobs.length === 1 && jobs[0]?.data.reason === 'refresh' ? jobs : undefined;
      });
      expect((await addedOf(synced.uid)).sort()).toEqual([job!.id, refresh!.id].sort());
    } finally {
      enqueuer.stateOf = stateOf;
    }
  });
});
