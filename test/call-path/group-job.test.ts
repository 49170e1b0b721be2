// Issue 33: the refreshes of ExternalSecrets that read one remote key, planned for one instant,
// cost one provider call with several worker processes. The scheduler's Dispatcher (the planner's
// part played by the test: 20 refreshes of one read group at one instant) holds them and sends
// one group job shortly before the instant; two real `herdless worker` processes take jobs from
// the queue, and the one that takes the group job runs its members together, so its coalescer
// makes one call. Counted at our AWS endpoint. Sent as 20 ordinary jobs, both workers take some
// and each makes its own call.
import { createLogger, DEFAULT_SHARD, syncJobId, type SyncJob } from '@herdless/core';
import { Dispatcher, type PlanChange, type PlannedSync, type SyncEnqueuer } from '@herdless/scheduler';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitUntil } from '../support/index.js';
import { spawnAwsEndpoint, type SpawnedAwsEndpoint } from './support/endpoint.js';
import { adminClients, createFleet, notReady, openEnqueuer, queueOf, runId, spawnWorkers, waitForDrained, type AdminClients, type Fleet, stopCallPathRun, type HerdlessProcess } from './support/fleet.js';

const MEMBERS = 20;
const run = runId();
const KEY = `grp-${run}/shared`;

let admin: AdminClients;
let aws: SpawnedAwsEndpoint | undefined;
let enqueuer: SyncEnqueuer | undefined;
let fleet: Fleet | undefined;
let workers: HerdlessProcess[] = [];

beforeAll(async () => {
  admin = adminClients(inject('kubeconfigPath'));
  aws = await spawnAwsEndpoint();
  await aws.putSecrets([{ name: KEY, secretString: 'shared-value' }]);
  enqueuer = openEnqueuer(inject('redisUrl'), `grp${run}`);
  fleet = await createFleet({ admin, aws, prefix: 'cp-grp', service: 'SecretsManager', count: MEMBERS, keyOf: () => KEY });
  // Two processes, each able to take every job of the instant; a coalescing window long enough
  // that a loaded machine cannot spread one process's reads of the value past it.
  workers = spawnWorkers(2, {
    redisUrl: inject('redisUrl'),
    kubeconfigPath: inject('kubeconfigPath'),
    queuePrefix: `grp${run}`,
    awsUrl: aws.url,
    budgets: 'aws-sm=100',
    concurrency: 50,
    extra: ['--coalesce-window-ms', '30000'],
  });
}, 300_000);

afterAll(() => stopCallPathRun({ workers, enqueuer, aws, fleet }));

/** The refresh the planner would plan for item i of the fleet at `plannedAt`. */
function refreshOf(f: Fleet, i: number, plannedAt: number): PlanChange {
  const it = f.items[i] as Fleet['items'][number];
  const job: Omit<PlannedSync, 'id'> = { uid: it.uid, namespace: f.namespace, name: it.name, generation: it.generation, reason: 'refresh', plannedAt, deadline: plannedAt + 60_000, providerKey: f.providerKey, shard: DEFAULT_SHARD, cost: 1 };
  return { uid: it.uid, cancel: [], add: { ...job, id: syncJobId(job) } };
}

describe('a group job: one worker process for a shared key\'s instant', () => {
  it(`${MEMBERS} refreshes of one remote key at one instant, two worker processes: one provider call, every member synced`, async () => {
    const f = fleet as Fleet;
    const abort = new AbortController();
    const dispatcher = new Dispatcher({ enqueuer: enqueuer as SyncEnqueuer, epoch: 0, signal: abort.signal, logger: createLogger('test', 'silent'), groupOf: () => 'test-group' });
    const since = Date.now();
    // Far enough ahead that the group is held and sent before the instant, even on a loaded machine.
    const instant = Math.ceil((since + 6_000) / 1000) * 1000;
    for (let i = 0; i < MEMBERS; i++) dispatcher.submit(refreshOf(f, i, instant));
    await waitUntil(() => (dispatcher.heldCount === 0 && dispatcher.backlog === 0) || undefined, { what: 'the group to be sent', timeoutMs: 60_000 });
    await waitForDrained(queueOf(enqueuer as SyncEnqueuer), 120_000);
    const { names, reasons } = await notReady(admin, f);
    const calls = (await (aws as SpawnedAwsEndpoint).requests({ sinceMs: since })).filter((c) => c.operation === 'GetSecretValue' || c.operation === 'BatchGetSecretValue');
    process.stderr.write(`[call-path group] ${calls.length} calls for ${MEMBERS} refreshes; dispatcher ${JSON.stringify(dispatcher.counts)}\n`);
    abort.abort();
    expect({ notReady: names.length, reasons }).toEqual({ notReady: 0, reasons: {} });
    expect(calls.length).toBe(1);
  }, 240_000);

  it('a new leader adopts a group job\'s members under their own ids, and finds them pending', async () => {
    const f = fleet as Fleet;
    const e = enqueuer as SyncEnqueuer;
    const plannedAt = Date.now() + 3_600_000;
    const members = [0, 1, 2].map((i) => {
      const add = refreshOf(f, i, plannedAt).add as PlannedSync;
      const job: SyncJob = { namespace: add.namespace, name: add.name, uid: add.uid, generation: add.generation, reason: 'refresh', plannedAt, deadline: add.deadline as number, providerKey: add.providerKey, epoch: 0 };
      return { id: add.id, job };
    });
    await e.enqueueGroup(members, `group.adopt-${run}.${plannedAt}.0`, DEFAULT_SHARD);
    try {
      const pending = (await e.pendingJobs()).filter((j) => j.groupJobId === `group.adopt-${run}.${plannedAt}.0`);
      expect(pending.map((j) => j.id).sort()).toEqual(members.map((m) => m.id).sort());
      expect(pending.map((j) => j.data.uid).sort()).toEqual(members.map((m) => m.job.uid).sort());
      expect(await e.stateOf(members[0]?.id as string, DEFAULT_SHARD)).toBe('delayed');
    } finally {
      await queueOf(e).remove(`group.adopt-${run}.${plannedAt}.0`);
    }
  });
});
