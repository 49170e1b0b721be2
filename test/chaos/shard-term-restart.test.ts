// A plan shard's term that ends because its own renewal came late, on a replica that keeps its
// Lease: the elector starts a new term, and that term must find the shard's ExternalSecrets in the
// cache instead of listing the whole fleet again. At 100,000 in a creation storm (lab, 2026-12-07)
// every such restart listed the fleet, 38 to 173 s on the loaded API server, which made the next
// renewal late again. Here one `--plan-shards 2` replica talks to the API server through its own
// fault proxy; a partition longer than the renew deadline and shorter than the lease stops its
// terms, the heal lets the same replica take its shards again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeconfigProxy, type KubeconfigProxy } from '@herdless/lab';
import { createExternalSecret, createSecretStore, readQueueFor, uniquePrefix, waitFor } from '../support/index.js';
import { adminKubeConfig, createNamespace, deleteNamespace, injected, planShardLeases, REPLICA_LEASE_NAME, schedulerReplicas, uniqueNamespace } from '../support/index.js';

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

describe('a plan shard term restarted after a late renewal', () => {
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

  it('takes its shards again without listing the fleet, and plans', async () => {
    for (let i = 0; i < 10; i++) uids.add((await createExternalSecret(kc, namespace, `es-${i}`)).uid);
    replicas.start('replica', { kubeconfigPath: proxy!.kubeconfigPath, args: ['--plan-shards', String(SHARDS)] });
    await waitFor('the replica to plan both shards', async () => ((await holders()).every((h) => h === 'replica') && (await queue()).jobs.length === 10 ? true : undefined), 30_000);
    expect(holds(replicas.log('replica')).filter((h) => h.listed).map((h) => h.planShard).sort(), 'the first terms list the fleet').toEqual([0, 1]);
    const before = holds(replicas.log('replica')).length;

    // Every request hangs until the renew deadline has stopped the terms, then flows again.
    proxy!.proxy.partition('hang');
    await waitFor('both terms stopped at their renew deadline', () => (new Set(linesOf(replicas.log('replica'), 'renew deadline passed; stopping planning').map((l) => l.planShard)).size === SHARDS ? true : undefined), 20_000, 100);
    proxy!.proxy.heal();

    const restarted = await waitFor('new terms for both shards', () => {
      const after = holds(replicas.log('replica')).slice(before);
      return new Set(after.map((h) => h.planShard)).size === SHARDS ? after : undefined;
    }, 30_000);
    expect(restarted.filter((h) => h.listed), 'terms that listed the fleet again').toEqual([]);

    // The restarted terms plan: a new ExternalSecret gets its job.
    const late = await createExternalSecret(kc, namespace, 'after-restart');
    uids.add(late.uid);
    await waitFor('the new ExternalSecret planned', async () => (await queue()).jobs.find((j) => j.data.uid === late.uid), 30_000);
    expect(await holders()).toEqual(['replica', 'replica']);
    passed = true;
  });
});
