// ESO's per-ExternalSecret metric with plan shards, from two `herdless scheduler --plan-shards 4`
// processes on the real control plane: each replica's externalsecret_status_condition series
// name only the ExternalSecrets of the shards it holds, and when the other replica leaves, the
// survivor's series cover the shards it took over. The planner gauges sum the replica's shards
// (herdless_planner_planned_jobs is the number of its shards' ExternalSecrets, none of which is
// synced here: no worker runs).
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS, mergePatch } from '@herdless/core';
import { planShardOf } from '../src/index.js';
import { adminKubeConfig, createNamespace, deleteNamespace, exited, planShardLeases, REPLICA_LEASE_NAME, schedulerReplicas, uniqueNamespace, waitUntil } from '../../../test/support/index.js';
import { createExternalSecret, createSecretStore, uniquePrefix } from './support.js';

const SHARDS = 4;
const COUNT = 12;

/** A free loopback port (the replicas serve /metrics on it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('per-ExternalSecret metrics over plan shards', () => {
  const kc = adminKubeConfig();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = uniqueNamespace('sched-shard-metrics');
  const replicas = schedulerReplicas({ namespace, queuePrefix: uniquePrefix('shard-metrics') });
  const names = Array.from({ length: COUNT }, (_, i) => `es-${i}`);
  const ports = new Map<string, number>();

  const holders = async (): Promise<string[]> => (await planShardLeases(kc, namespace, REPLICA_LEASE_NAME, SHARDS)).map((l) => l.holder);
  /** The ExternalSecrets named by the replica's externalsecret_status_condition series. */
  const seriesOf = async (identity: string): Promise<string[]> => {
    const text = await (await fetch(`http://127.0.0.1:${ports.get(identity)}/metrics`)).text();
    const found = new Set<string>();
    for (const m of text.matchAll(/^externalsecret_status_condition\{([^}]*)\}/gm)) {
      const labels = m[1] ?? '';
      if (labels.includes(`namespace="${namespace}"`)) found.add(/name="([^"]*)"/.exec(labels)?.[1] ?? '');
    }
    return [...found].sort();
  };
  /** The replica's herdless_planner_planned_jobs. */
  const plannedJobsOf = async (identity: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${ports.get(identity)}/metrics`)).text();
    return Number(/^herdless_planner_planned_jobs (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
  };
  const namesIn = (shards: number[]): string[] => names.filter((n) => shards.includes(planShardOf(namespace, n, SHARDS))).sort();
  const shardsOf = (leases: string[], identity: string): number[] => leases.flatMap((h, i) => (h === identity ? [i] : []));

  beforeAll(async () => {
    await createNamespace(kc, namespace);
    await createSecretStore(kc, namespace);
    const ready = { conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced', message: 'synced', lastTransitionTime: new Date().toISOString() }] };
    for (const name of names) {
      await createExternalSecret(kc, namespace, name);
      await custom.patchNamespacedCustomObjectStatus({ group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ExternalSecret, namespace, name, body: { status: ready } }, mergePatch);
    }
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') replicas.printLogs(3_000);
  });

  afterAll(async () => {
    await replicas.stopAll();
    await deleteNamespace(kc, namespace);
  });

  it("each replica's status-condition series cover its shards only, and the survivor's cover the shards it takes over", async () => {
    for (const identity of ['replica-a', 'replica-b']) {
      ports.set(identity, await freePort());
      replicas.start(identity, { args: ['--plan-shards', String(SHARDS), '--metrics-port', String(ports.get(identity))] });
    }
    let leases: string[] = [];
    let seen = '';
    // Balanced (2 and 2), and each replica's series are exactly its shards' ExternalSecrets.
    await waitUntil(
      async () => {
        leases = await holders();
        const [a, b] = [shardsOf(leases, 'replica-a'), shardsOf(leases, 'replica-b')];
        const series = { a: await seriesOf('replica-a').catch(() => []), b: await seriesOf('replica-b').catch(() => []) };
        const jobs = { a: await plannedJobsOf('replica-a').catch(() => Number.NaN), b: await plannedJobsOf('replica-b').catch(() => Number.NaN) };
        seen = `leases ${JSON.stringify(leases)}, series ${JSON.stringify(series)}, planned jobs ${JSON.stringify(jobs)}`;
        return a.length === 2 &&
          b.length === 2 &&
          JSON.stringify(series.a) === JSON.stringify(namesIn(a)) &&
          JSON.stringify(series.b) === JSON.stringify(namesIn(b)) &&
          jobs.a === namesIn(a).length &&
          jobs.b === namesIn(b).length
          ? true
          : undefined;
      },
      60_000,
      () => seen,
    );
    expect(namesIn(shardsOf(leases, 'replica-a')).length + namesIn(shardsOf(leases, 'replica-b')).length).toBe(COUNT);

    replicas.child('replica-b').kill('SIGTERM');
    await exited(replicas.child('replica-b'));
    await waitUntil(async () => ((await seriesOf('replica-a')).length === COUNT && (await plannedJobsOf('replica-a')) === COUNT ? true : undefined), 30_000, () => seen);
    expect(await seriesOf('replica-a')).toEqual([...names].sort());
  });
});
