// Group jobs and a leader that dies while it holds them (issue 33). The leader's dispatcher holds
// the refreshes of ExternalSecrets that share a remote key until shortly before their instant, so
// a leader killed in between leaves nothing on the queue for them: the next leader must plan them
// from their status, and each must still sync by its deadline (here as one group job again).
// The test plays the worker: it writes each member's status, as Herdless's worker would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker, type Job } from 'bullmq';
import { SYNC_GROUP_JOB_NAME, syncGroupJobSchema, syncQueueName, type SyncJob } from '@herdless/core';
import { createExternalSecretsInformers, SyncEnqueuer, type ExternalSecretsInformers, type Planner } from '../src/index.js';
import { createPlanner } from '../src/planning/policies.js';
import { runLeaderSession } from '../src/session/session.js';
import { readExternalSecretVersions } from '../src/session/server-versions.js';
import { adminKubeConfig, createNamespace, injected, uniqueNamespace } from '../../../test/support/index.js';
import { createExternalSecret, createSecretStore, logger, readQueue, stopSessionSuite, testConfig, uniquePrefix, waitFor, writeSyncedStatus } from './support.js';

const INTERVAL_MS = 20_000;

describe('a leader killed while it holds a group\'s refreshes', () => {
  const kc = adminKubeConfig();
  const namespace = uniqueNamespace('sched-group');
  const prefix = uniquePrefix('group');
  const config = testConfig({ namespace, watchNamespace: namespace, queuePrefix: prefix });
  const enqueuer = new SyncEnqueuer({ redis: config, prefix, shards: ['default'], logger });
  const informers: ExternalSecretsInformers[] = [];
  const sessions: Array<{ abort: AbortController; done: Promise<void> }> = [];
  /** Every sync the test's worker ran: by name, when, and the deadline it served. */
  const synced: Array<{ name: string; atMs: number; deadline: number | undefined; inGroupOf: number }> = [];
  let worker: Worker | undefined;

  const startSession = async (epoch: number, onPlanned: (p: Planner) => void) => {
    const from = createExternalSecretsInformers(kc, logger, namespace);
    informers.push(from);
    await from.start();
    await from.synced();
    const abort = new AbortController();
    const done = runLeaderSession({ epoch, signal: abort.signal, informers: from, enqueuer, planner: createPlanner(config), shards: ['default'], logger, serverVersions: (wanted) => readExternalSecretVersions(kc, wanted, namespace), onPlanned });
    sessions.push({ abort, done });
    return { abort, done };
  };
  const writeStatus = async (job: SyncJob, inGroupOf: number) => {
    const atMs = Date.now();
    // Recorded before the write: the session may see the status on its watch (and the test's
    // wait below end) before this write's own answer is read.
    synced.push({ name: job.name, atMs, deadline: job.deadline, inGroupOf });
    await writeSyncedStatus(kc, namespace, job, atMs);
  };

  beforeAll(async () => {
    await createNamespace(kc, namespace);
    await createSecretStore(kc, namespace);
    worker = new Worker(
      syncQueueName('default'),
      async (job: Job) => {
        if (job.name !== SYNC_GROUP_JOB_NAME) return writeStatus(job.data as SyncJob, 0);
        const { members } = syncGroupJobSchema.parse(job.data);
        await Promise.all(members.map((m) => writeStatus(m.job, members.length)));
      },
      { connection: { url: injected('redisUrl') }, prefix },
    );
  });

  afterAll(() => stopSessionSuite(kc, namespace, { sessions, worker, informers, enqueuer }));

  it('the next leader plans them from their status; each syncs by its deadline, as one group job', async () => {
    const names = ['reader-a', 'reader-b', 'reader-c'];
    const uids: string[] = [];
    for (const name of names) uids.push((await createExternalSecret(kc, namespace, name, { refreshInterval: `${INTERVAL_MS / 1000}s`, data: [{ secretKey: 'password', remoteRef: { key: 'app/shared' } }] })).uid);
    // Leader 1 syncs the new specs, then plans their refreshes, which it holds (not on the queue).
    let planner1: Planner | undefined;
    const leader1 = await startSession(1, (p) => (planner1 = p));
    await waitFor('leader 1 to hold the three refreshes', async () => {
      if (!uids.every((uid) => planner1?.planned(uid)?.reason === 'refresh')) return undefined;
      const queued = (await readQueue(prefix)).jobs.filter((j) => j.data.reason === 'refresh' || 'members' in j.data);
      return queued.length === 0 ? true : undefined;
    });
    const firstSyncs = new Map(synced.map((s) => [s.name, s.atMs]));
    expect([...firstSyncs.keys()].sort()).toEqual(names);
    leader1.abort.abort();
    await leader1.done;

    // Leader 2 adopts nothing for them and plans them from their status.
    await startSession(2, () => undefined);
    const refreshes = await waitFor(
      'a refresh of each reader',
      () => {
        const r = synced.filter((s) => s.deadline !== undefined);
        return names.every((n) => r.some((s) => s.name === n)) ? r : undefined;
      },
      INTERVAL_MS * 3,
    );
    for (const r of refreshes) {
      // refreshTime has one-second precision: the deadline is the first sync's second + the interval.
      expect(r.atMs, `${r.name} synced after its deadline`).toBeLessThanOrEqual(Math.floor((firstSyncs.get(r.name) as number) / 1000) * 1000 + INTERVAL_MS + 1000);
    }
    expect(refreshes.map((r) => r.inGroupOf)).toEqual([3, 3, 3]);
  }, 120_000);
});
