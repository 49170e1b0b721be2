// Issue 9: one scheduler replica cut off from the API server by its own fault proxy (a
// partition: its requests hang). The other replica takes the Lease within client-go timings
// and plans; when the partition heals, the old leader has stepped down and enqueues nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { startKubeconfigProxy, type KubeconfigProxy } from '@herdless/lab';
import { createExternalSecret, createSecretStore, readQueueFor, uniquePrefix, waitFor } from '../support/index.js';
import { adminKubeConfig, createNamespace, deleteNamespace, injected, observedLeader, REPLICA_LEASE_NAME, REPLICA_TIMINGS, schedulerReplicas, uniqueNamespace, waitForLeaseRenewals } from '../support/index.js';

// Short client-go style timings so the test is quick: lease 6 s, renew deadline 4 s, retry 1 s.
const { leaseSeconds: LEASE_SECONDS, retrySeconds: RETRY_SECONDS } = REPLICA_TIMINGS;

describe('scheduler replica partitioned from the API server', () => {
  const kc = adminKubeConfig();
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const namespace = uniqueNamespace('chaos-partition');
  const prefix = uniquePrefix('part');
  const replicas = schedulerReplicas({ namespace, queuePrefix: prefix });
  const uids = new Set<string>();
  let proxyA: KubeconfigProxy | undefined;
  let passed = false;

  const holder = async (): Promise<string | undefined> => {
    try {
      return (await coordination.readNamespacedLease({ name: REPLICA_LEASE_NAME, namespace })).spec?.holderIdentity;
    } catch {
      return undefined;
    }
  };
  const queue = () => readQueueFor(prefix, namespace, () => uids);

  beforeAll(async () => {
    await createNamespace(kc, namespace);
    await createSecretStore(kc, namespace);
    proxyA = await startKubeconfigProxy({ kubeconfigPath: injected('kubeconfigPath'), outPath: `${injected('controlPlaneDir')}/${namespace}-replica-a.kubeconfig`, name: 'replica-a' });
  });

  afterAll(async () => {
    if (!passed) replicas.printLogs(4_000);
    await replicas.stopAll();
    await proxyA?.stop();
    await deleteNamespace(kc, namespace);
  });

  it('the other replica takes the Lease, and the healed old leader steps down without enqueueing', async () => {
    const a = replicas.start('replica-a', { kubeconfigPath: proxyA!.kubeconfigPath });
    await waitFor('replica-a to hold the lease', async () => ((await holder()) === 'replica-a' ? true : undefined), 30_000);
    replicas.start('replica-b');
    for (let i = 0; i < 20; i++) uids.add((await createExternalSecret(kc, namespace, `es-${i}`)).uid);
    await waitFor('20 jobs from replica-a', async () => ((await queue()).jobs.length === 20 ? true : undefined), 30_000);
    const epochA = (await queue()).jobs[0]?.data.epoch as number;
    // replica-b stands by: it has read the Lease and seen replica-a hold it.
    await waitFor('replica-b to observe replica-a leading', () => observedLeader(replicas.log('replica-b'), 'replica-a') || undefined, 30_000);
    expect(await holder()).toBe('replica-a');

    // Partition replica-a: every request it sends hangs, its open connections are cut.
    const partitionedAt = Date.now();
    proxyA!.proxy.partition('hang');
    await waitFor('replica-b to hold the lease', async () => ((await holder()) === 'replica-b' ? true : undefined), 30_000, 100);
    const takeoverMs = Date.now() - partitionedAt;
    process.stderr.write(`[chaos] takeover after partitioning the leader: ${(takeoverMs / 1000).toFixed(1)} s\n`);
    // client-go: the Lease expires leaseDuration after the last renewal, the standby retries every retryPeriod.
    expect(takeoverMs).toBeLessThan((LEASE_SECONDS + 2 * RETRY_SECONDS + 2) * 1000);
    // The partitioned leader stopped planning by its renew deadline, without hearing from the server.
    await waitFor('replica-a to stop planning', () => (/renew deadline passed|lost the lease/.test(replicas.log('replica-a')) ? true : undefined), 10_000);

    const late = await createExternalSecret(kc, namespace, 'during-partition');
    uids.add(late.uid);
    const lateJob = await waitFor('replica-b to plan', async () => (await queue()).jobs.find((j) => j.data.uid === late.uid), 20_000);
    expect(lateJob.data.epoch).toBeGreaterThan(epochA);

    // Heal: replica-a's requests flow again; it must find the Lease taken and stay a follower.
    proxyA!.proxy.heal();
    const afterHeal = await createExternalSecret(kc, namespace, 'after-heal');
    uids.add(afterHeal.uid);
    await waitFor('replica-b to plan after the heal', async () => (await queue()).jobs.find((j) => j.data.uid === afterHeal.uid), 20_000);
    // A stale leader would misbehave once it hears from the server again: wait until replica-a
    // has read the Lease after the heal (it observes replica-b leading), then for a lease's worth
    // of the election's rounds.
    await waitFor('healed replica-a to observe replica-b leading', () => observedLeader(replicas.log('replica-a'), 'replica-b') || undefined, 30_000);
    await waitForLeaseRenewals(kc, namespace, REPLICA_LEASE_NAME, 'replica-b', Math.ceil(LEASE_SECONDS / RETRY_SECONDS));
    expect(await holder()).toBe('replica-b');
    expect(a.exitCode).toBeNull();
    const view = await queue();
    expect(view.jobs).toHaveLength(22);
    expect(view.addedEvents).toHaveLength(22);
    // Nothing planned twice, and nothing planned by replica-a's old epoch after the partition.
    for (const uid of uids) expect(view.jobs.filter((j) => j.data.uid === uid)).toHaveLength(1);
    expect(view.jobs.filter((j) => j.data.epoch === epochA)).toHaveLength(20);
    expect(proxyA!.proxy.stats().held).toBe(0);
    passed = true;
  });
});
