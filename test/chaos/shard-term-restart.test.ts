// A plan shard's term whose own renewal came late, on a replica that keeps its Lease: the term is
// paused at the renew deadline (nothing enqueued) and resumes when the renewal succeeds, with the
// plan it kept: no new term, so no queue scan, no versions read, no fleet listed. At 100,000 in a
// creation storm (lab, 2026-12-07) such a late renewal ended the term, and the next one took 18 to
// 65 s to plan again on the loaded API server (before that, it listed the whole fleet, 38 to
// 173 s), which made the next renewal late again. Here one `--plan-shards 2` replica talks to the
// API server through its own fault proxy; a partition longer than the renew deadline and shorter
// than the lease pauses its terms, the heal lets the same terms plan on. A term whose Lease another
// replica took and released during the pause ends instead, and the next term takes the shard's
// objects over from it without listing the fleet (the linger of lifetime/scheduler.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { startKubeconfigProxy, type KubeconfigProxy } from '@herdless/lab';
import { createExternalSecret, createSecretStore, readQueueFor, uniquePrefix, waitFor } from '../support/index.js';
import { adminKubeConfig, createNamespace, deleteNamespace, injected, planShardLeases, REPLICA_LEASE_NAME, schedulerReplicas, uniqueNamespace } from '../support/index.js';
import { planShardLeaseName } from '@herdless/scheduler';

const SHARDS = 2;

/** The replica's log lines with message `msg`, parsed. */
function linesOf(log: string, msg: string): Array<{ planShard: number; listed?: boolean }> {
  return log
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as { planShard: number; listed?: boolean });
}
/** Its "in the cache" lines: which shard, and whether the term listed the fleet for it. */
const holds = (log: string) => linesOf(log, "the shard's ExternalSecrets are in the cache");
const PAUSED = 'renew deadline passed; planning paused until the lease is renewed';

describe('a plan shard term paused by a late renewal', () => {
  const kc = adminKubeConfig();
  const namespace = uniqueNamespace('chaos-term-restart');
  const prefix = uniquePrefix('restart');
  const replicas = schedulerReplicas({ namespace, queuePrefix: prefix });
  const uids = new Set<string>();
  let proxy: KubeconfigProxy | undefined;
  let passed = false;

  const holders = async (): Promise<string[]> => (await planShardLeases(kc, namespace, REPLICA_LEASE_NAME, SHARDS)).map((l) => l.holder);
  const queue = () => readQueueFor(prefix, namespace, () => uids);

  beforeAll(async () => {
    await createNamespace(kc, namespace);
    await createSecretStore(kc, namespace);
    proxy = await startKubeconfigProxy({ kubeconfigPath: injected('kubeconfigPath'), outPath: `${injected('controlPlaneDir')}/${namespace}-replica.kubeconfig`, name: 'replica' });
  });

  afterAll(async () => {
    if (!passed) replicas.printLogs(6_000);
    await replicas.stopAll();
    await proxy?.stop();
    await deleteNamespace(kc, namespace);
  });

  it('resumes its terms without planning anew, and plans', async () => {
    for (let i = 0; i < 10; i++) uids.add((await createExternalSecret(kc, namespace, `es-${i}`)).uid);
    replicas.start('replica', { kubeconfigPath: proxy!.kubeconfigPath, args: ['--plan-shards', String(SHARDS)] });
    await waitFor('the replica to plan both shards', async () => ((await holders()).every((h) => h === 'replica') && (await queue()).jobs.length === 10 ? true : undefined), 30_000);
    expect(holds(replicas.log('replica')).filter((h) => h.listed).map((h) => h.planShard).sort(), 'the first terms list the fleet').toEqual([0, 1]);
    const termsBefore = holds(replicas.log('replica')).length;
    const plannedBefore = linesOf(replicas.log('replica'), 'planned from the caches and the queue').length;

    // Every request hangs until the renew deadline has paused the terms, then flows again.
    proxy!.proxy.partition('hang');
    await waitFor('both terms paused at their renew deadline', () => (new Set(linesOf(replicas.log('replica'), PAUSED).map((l) => l.planShard)).size === SHARDS ? true : undefined), 20_000, 100);
    // Created while paused: planned, but not enqueued before the renewal.
    const late = await createExternalSecret(adminKubeConfig(), namespace, 'while-paused');
    uids.add(late.uid);
    proxy!.proxy.heal();

    await waitFor('both terms resumed', () => (new Set(linesOf(replicas.log('replica'), 'lease renewed; planning resumes').map((l) => l.planShard)).size === SHARDS ? true : undefined), 30_000, 100);
    await waitFor('the ExternalSecret created while paused planned', async () => (await queue()).jobs.find((j) => j.data.uid === late.uid), 30_000);
    // The same terms planned on: none started, none planned the shard anew.
    expect(holds(replicas.log('replica')).slice(termsBefore), 'terms started after the pause').toEqual([]);
    expect(linesOf(replicas.log('replica'), 'planned from the caches and the queue').length, 'first passes after the pause').toBe(plannedBefore);
    expect(linesOf(replicas.log('replica'), 'leader session ended'), 'terms ended').toEqual([]);
    expect(await holders()).toEqual(['replica', 'replica']);
    // Each ExternalSecret's job once.
    const jobs = (await queue()).jobs;
    for (const uid of uids) expect(jobs.filter((j) => j.data.uid === uid), `jobs of ${uid}`).toHaveLength(1);
    passed = true;
  });

  it('ends a paused term whose Lease another replica took and released meanwhile; the new term keeps the cache and plans', async () => {
    passed = false;
    const log = () => replicas.log('replica');
    const pausedBefore = linesOf(log(), PAUSED).length;
    const termsBefore = holds(log()).length;
    const epochsBefore = (await planShardLeases(kc, namespace, REPLICA_LEASE_NAME, SHARDS)).map((l) => l.epoch);
    proxy!.proxy.partition('hang');
    await waitFor('both terms paused again', () => (new Set(linesOf(log(), PAUSED).slice(pausedBefore).map((l) => l.planShard)).size === SHARDS ? true : undefined), 20_000, 100);
    // Meanwhile another replica held each shard's Lease and released it: free, a transition later.
    const coordination = kc.makeApiClient(CoordinationV1Api);
    for (let shard = 0; shard < SHARDS; shard++) {
      const name = planShardLeaseName(REPLICA_LEASE_NAME, shard);
      const lease = await coordination.readNamespacedLease({ name, namespace });
      const now = new V1MicroTime(Date.now());
      await coordination.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1, acquireTime: now, renewTime: now } } });
    }
    proxy!.proxy.heal();

    // The paused terms must not resume on a Lease that changed hands: new terms, in new epochs,
    // which take the shards' objects over without listing the fleet.
    const restarted = await waitFor('new terms for both shards', () => {
      const after = holds(log()).slice(termsBefore);
      return new Set(after.map((h) => h.planShard)).size === SHARDS ? after : undefined;
    }, 30_000);
    expect(restarted.filter((h) => h.listed), 'terms that listed the fleet again').toEqual([]);
    const epochs = (await planShardLeases(kc, namespace, REPLICA_LEASE_NAME, SHARDS)).map((l) => l.epoch);
    for (let shard = 0; shard < SHARDS; shard++) expect(epochs[shard], `shard ${shard}'s epoch`).toBeGreaterThan(epochsBefore[shard] as number);
    const late = await createExternalSecret(kc, namespace, 'after-new-terms');
    uids.add(late.uid);
    await waitFor('the new ExternalSecret planned', async () => (await queue()).jobs.find((j) => j.data.uid === late.uid), 30_000);
    expect(await holders()).toEqual(['replica', 'replica']);
    passed = true;
  });
});
