// An ExternalSecret created on the API server becomes exactly one job in Redis, with the
// deterministic id and the new-spec priority; a spec edit replaces it; a delete removes it; a
// scheduler scoped to a namespace (watchNamespace) plans nothing of another.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { LANE_PRIORITY, syncJobId } from '@herdless/core';
import { startScheduler, type SchedulerHandle } from '../src/index.js';
import { adminKubeConfig, createNamespace, deleteNamespace, uniqueNamespace } from '../../../test/support/index.js';
import { createExternalSecret, createSecretStore, logger, readQueue, testConfig, uniquePrefix, waitFor } from './support.js';

describe('scheduler enqueues ExternalSecrets', () => {
  const kc = adminKubeConfig();
  const namespace = uniqueNamespace('sched-enqueue');
  const elsewhere = uniqueNamespace('sched-elsewhere');
  const prefix = uniquePrefix('enq');
  let scheduler: SchedulerHandle | undefined;

  beforeAll(async () => {
    await createNamespace(kc, namespace);
    await createSecretStore(kc, namespace);
    await createNamespace(kc, elsewhere);
    await createSecretStore(kc, elsewhere);
    // Scoped to its namespace: the other suites' ExternalSecrets (thousands, in parallel) stay out of this queue.
    scheduler = startScheduler(testConfig({ namespace, watchNamespace: namespace, queuePrefix: prefix, leaseName: 'sched-enqueue' }), { logger });
    await waitFor('leadership', () => scheduler?.isLeader() || undefined);
  });

  afterAll(async () => {
    await scheduler?.stop();
    await deleteNamespace(kc, namespace);
    await deleteNamespace(kc, elsewhere);
  });

  it('a created ExternalSecret becomes exactly one job with the expected id and priority', async () => {
    const { uid, generation } = await createExternalSecret(kc, namespace, 'app');
    const view = await waitFor('one job', async () => {
      const v = await readQueue(prefix);
      return v.jobs.some((j) => j.data.uid === uid) ? v : undefined;
    });
    const jobs = view.jobs.filter((j) => j.data.uid === uid);
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job.id).toBe(syncJobId({ uid, generation, plannedAt: job.data.plannedAt as number, reason: 'new' }));
    expect(job.priority).toBe(LANE_PRIORITY.new);
    expect(job.data).toMatchObject({ namespace, name: 'app', uid, generation, reason: 'new', providerKey: 'aws-sm|us-east-1|default|', epoch: scheduler?.epoch() });
    expect(Object.keys(job.data).sort()).toEqual(['epoch', 'generation', 'name', 'namespace', 'plannedAt', 'providerKey', 'reason', 'uid']);
    // Nothing else was added for it, even though the informer delivered it more than once: the
    // job of an ExternalSecret created after it proves the scheduler handled every later event.
    const after = await createExternalSecret(kc, namespace, 'app-after');
    await waitFor('the later job', async () => (await readQueue(prefix)).jobs.find((j) => j.data.uid === after.uid));
    expect((await readQueue(prefix)).addedEvents.filter((id) => id.startsWith(uid))).toEqual([job.id]);
  });

  it('a spec edit replaces the pending job; a delete removes it', async () => {
    const { uid } = await createExternalSecret(kc, namespace, 'edited');
    const first = await waitFor('first job', async () => (await readQueue(prefix)).jobs.find((j) => j.data.uid === uid));
    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.patchNamespacedCustomObject(
      { group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets', namespace, name: 'edited', body: [{ op: 'replace', path: '/spec/refreshInterval', value: '30m' }] },
    );
    const second = await waitFor('the generation-2 job', async () => (await readQueue(prefix)).jobs.find((j) => j.data.uid === uid && j.data.generation === 2));
    expect(second.data.reason).toBe('new'); // never synced: still the new lane
    expect((await readQueue(prefix)).jobs.filter((j) => j.data.uid === uid).map((j) => j.id)).toEqual([second.id]);
    expect(first.id).not.toBe(second.id);
    await custom.deleteNamespacedCustomObject({ group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets', namespace, name: 'edited' });
    await waitFor('no job left', async () => ((await readQueue(prefix)).jobs.some((j) => j.data.uid === uid) ? undefined : true));
  });

  it('with watchNamespace, an ExternalSecret of another namespace gets no job', async () => {
    // Created first: an unscoped watch would deliver it before the two below, and the pass that
    // enqueued them would have planned it too.
    const outside = await createExternalSecret(kc, elsewhere, 'outside');
    for (const name of ['inside-1', 'inside-2']) {
      const { uid } = await createExternalSecret(kc, namespace, name);
      await waitFor(`the job of ${name}`, async () => (await readQueue(prefix)).jobs.find((j) => j.data.uid === uid));
    }
    const jobs = (await readQueue(prefix)).jobs;
    expect(jobs.filter((j) => j.data.uid === outside.uid)).toEqual([]);
    expect(jobs.every((j) => j.data.namespace === namespace)).toBe(true);
  });
});
