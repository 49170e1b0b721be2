// A new leader's adoption against a job that finished in between: the job completed (its status
// written first, as the worker does) after the new leader's informers synced and before its queue
// scan, and the status write has not reached its cache. The queue no longer holds the job and
// the cache still shows the ExternalSecret unsynced; the leader must not plan its spec a second
// time. The interleaving is made, not waited for: the standby's ExternalSecret informer is
// stopped (its cache kept) while a real BullMQ worker runs the job, and started again after the
// new leader's first pass. The sweep meets the same race for jobs it finds gone; when it cannot
// read the versions (the API server answering 500s) it must not take them for lost either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker, type Job } from 'bullmq';
import { syncQueueName, type SyncJob } from '@herdless/core';
import { createExternalSecretsInformers, SyncEnqueuer, type ExternalSecretsInformers } from '../src/index.js';
import { createPlanner } from '../src/planning/policies.js';
import { runLeaderSession } from '../src/session/session.js';
import { readExternalSecretVersions, type VersionKey } from '../src/session/server-versions.js';
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

  const serverVersions = (wanted: readonly VersionKey[]) => readExternalSecretVersions(kc, wanted, namespace);
  const startSession = (epoch: number, from: ExternalSecretsInformers, onPlanned: () => void, sweepIntervalMs?: number, versions = serverVersions) => {
    const abort = new AbortController();
    const done = runLeaderSession({
      epoch,
      signal: abort.signal,
      informers: from,
      enqueuer,
      planner: createPlanner(config),
      shards: ['default'],
      logger,
      serverVersions: versions,
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

    // The new leader: its queue scan finds nothing for either, its cache shows both unsynced. Its
    // first read of the versions fails (a 500 each time it was sent): it reads them again.
    let passes = 0;
    let versionReads = 0;
    startSession(2, standby, () => passes++, undefined, async (wanted) => {
      if (++versionReads === 1) throw new Error('HTTP-Code: 500 (injected by the test)');
      return serverVersions(wanted);
    });
    await waitFor('the first planning pass', () => (passes > 0 ? true : undefined));
    const freshJobs = await waitFor('the new ExternalSecret\'s job', async () => {
      const jobs = await jobsOf(fresh.uid);
      return jobs.length === 1 ? jobs : undefined;
    });
    expect(freshJobs[0]?.data.reason).toBe('new');
    expect(await jobsOf(done.uid), 'a spec sync planned again for an ExternalSecret synced in between').toEqual([]);
    expect(versionReads).toBe(2);

    // The informer catches up: the synced status arrives and the next sync is a routine refresh.
    await standby.externalSecrets.start();
    const [refresh] = await waitFor('the refresh', async () => {
      const jobs = await jobsOf(done.uid);
      return jobs.length === 1 ? jobs : undefined;
    });
    expect(refresh?.data.reason).toBe('refresh');
    expect((await addedOf(done.uid)).sort()).toEqual([oldJob!.id, refresh!.id].sort());
  });

  /**
   * The sweep's race: an ExternalSecret's job completes while the session's cache is stopped
   * (its status not in it), two sweeps ask about its jobs, then the cache catches up and its
   * refresh is planned. `versions(uid)` is the session's reader of versions; `stopped` runs
   * once the cache is stopped, `swept` after the two sweeps. Every job added for it, and the two.
   */
  const sweepAfterAnUnseenCompletion = async (
    name: string,
    epoch: number,
    o: { versions?: (uid: string) => typeof serverVersions; stopped?: () => void; swept?: () => void } = {},
  ) => {
    for (const session of sessions.splice(0)) {
      session.abort.abort();
      await session.done;
    }
    const synced = await createExternalSecret(kc, namespace, name);
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
      startSession(epoch, cache, () => undefined, 300, o.versions?.(synced.uid) ?? serverVersions);
      const [job] = await waitFor('its job', async () => {
        const jobs = await jobsOf(synced.uid);
        return jobs.length === 1 ? jobs : undefined;
      });
      await cache.externalSecrets.stop();
      o.stopped?.();
      worker = syncingWorker();
      await waitFor('the job done and gone', async () => ((await enqueuer.stateOf(job!.id, 'default')) === 'unknown' ? true : undefined));
      await worker.close();
      worker = undefined;
      // Two sweeps asked about its jobs since: the first one's decision is made.
      answers.length = 0;
      await waitFor('two sweeps', () => (answers.length >= 2 ? true : undefined), 30_000);
      o.swept?.();
      await cache.externalSecrets.start();
      const [refresh] = await waitFor('the refresh', async () => {
        const jobs = await jobsOf(synced.uid);
        return jobs.length === 1 && jobs[0]?.data.reason === 'refresh' ? jobs : undefined;
      });
      return { job: job!, refresh: refresh!, added: await addedOf(synced.uid) };
    } finally {
      enqueuer.stateOf = stateOf;
    }
  };

  it('the sweep leaves a job that completed before the cache saw its status to the informer, and plans no second spec sync', async () => {
    const { job, refresh, added } = await sweepAfterAnUnseenCompletion('done-before-the-sweep', 3);
    expect(added.sort()).toEqual([job.id, refresh.id].sort());
  });

  it('the sweep that cannot read the versions takes no job for lost: it asks again, and plans no second spec sync', async () => {
    // The API server's answers to the versions read while the job completes and the sweeps ask:
    // 500s (each request was already tried again). Counted when a sweep asked about this one.
    let unreadable = false;
    let refusedAsks = 0;
    const versions = (uid: string) => async (wanted: readonly VersionKey[]) => {
      if (!unreadable) return serverVersions(wanted);
      if (wanted.some((w) => w.uid === uid)) refusedAsks++;
      throw new Error('HTTP-Code: 500 (injected by the test)');
    };
    const { job, refresh, added } = await sweepAfterAnUnseenCompletion('done-while-unreadable', 4, {
      versions,
      stopped: () => (unreadable = true),
      swept: () => (unreadable = false),
    });
    // A sweep found it gone and could not read its version.
    expect(refusedAsks).toBeGreaterThanOrEqual(1);
    // Without the hold, the first such sweep planned the stale cache's "new" spec sync: a third job.
    expect(added.sort()).toEqual([job.id, refresh.id].sort());
  });
});
