// Two scheduler replicas as separate `herdless scheduler` processes: SIGKILL the leader, the
// other takes over within 15 s and enqueues nothing a second time; SIGTERM releases the Lease.
import { describe, expect, it } from 'vitest';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { adminKubeConfig, exited, REPLICA_LEASE_NAME, schedulerReplicas, uniqueNamespace } from '../../../test/support/index.js';
import { createExternalSecret, readQueueFor, uniquePrefix, observedLeader, waitFor, waitForLeaseRenewals, withReplicaSuite } from './support.js';

describe('scheduler replicas as processes', () => {
  const kc = adminKubeConfig();
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const namespace = uniqueNamespace('sched-procs');
  const prefix = uniquePrefix('procs');
  const replicas = schedulerReplicas({ namespace, queuePrefix: prefix });
  const uids: string[] = [];
  const readQueue = () => readQueueFor(prefix, namespace, () => uids);

  const holder = async (): Promise<string | undefined> => {
    try {
      return (await coordination.readNamespacedLease({ name: REPLICA_LEASE_NAME, namespace })).spec?.holderIdentity;
    } catch {
      return undefined;
    }
  };

  withReplicaSuite(kc, namespace, replicas);

  it('kill -9 the leader: the other replica takes over within 15 s and nothing is enqueued twice', async () => {
    const a = replicas.start('replica-a');
    await waitFor('replica-a to hold the lease', async () => ((await holder()) === 'replica-a' ? true : undefined), 30_000);
    const b = replicas.start('replica-b');
    const created = await Promise.all(Array.from({ length: 30 }, (_, i) => createExternalSecret(kc, namespace, `es-${i}`)));
    uids.push(...created.map((c) => c.uid));
    await waitFor('30 jobs', async () => ((await readQueue()).jobs.length === 30 ? true : undefined), 30_000);
    const epochA = (await readQueue()).jobs[0]?.data.epoch as number;
    // b stands by: it has read the Lease and seen replica-a hold it.
    await waitFor('replica-b to observe replica-a leading', () => observedLeader(replicas.log('replica-b'), 'replica-a') || undefined, 30_000);
    expect(await holder()).toBe('replica-a');

    const killedAt = Date.now();
    a.kill('SIGKILL');
    await exited(a);
    await waitFor('replica-b to hold the lease', async () => ((await holder()) === 'replica-b' ? true : undefined), 20_000, 100);
    const takeoverMs = Date.now() - killedAt;
    process.stderr.write(`[scheduler] takeover after SIGKILL of the leader: ${(takeoverMs / 1000).toFixed(1)} s\n`);
    expect(takeoverMs).toBeLessThan(15_000);

    const late = await createExternalSecret(kc, namespace, 'after-takeover');
    uids.push(late.uid);
    const lateJob = await waitFor('the new leader to plan', async () => (await readQueue()).jobs.find((j) => j.data.uid === late.uid), 20_000);
    expect(lateJob.data.epoch).toBe(epochA + 1);
    // Two rounds of the election into b's term: what it would re-enqueue, it would have by now.
    await waitForLeaseRenewals(kc, namespace, REPLICA_LEASE_NAME, 'replica-b', 2);
    const view = await readQueue();
    expect(view.jobs).toHaveLength(31);
    expect(view.addedEvents).toHaveLength(31);
    for (const { uid } of created) expect(view.jobs.filter((j) => j.data.uid === uid).map((j) => j.data.epoch)).toEqual([epochA]);

    // SIGTERM: the leader stops planning, releases the Lease, and exits.
    b.kill('SIGTERM');
    expect(await exited(b)).toBe(0);
    expect(await holder()).toBe('');
    expect(replicas.log('replica-b')).toContain('released the lease');
  });
});
