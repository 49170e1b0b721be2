// Plan shards' shares of a budget from their demand, at run time, with two `herdless scheduler
// --plan-shards 2` processes on the real control plane: shard 0's ExternalSecrets refresh every
// 10 s, shard 1's every 100 s. Each owner publishes its demand on its shard's Lease, the owner of
// shard 0 settles one record of both, and the shares that record gives are in proportion to the
// demands above the floor and add up to at most the budget.
import { describe, expect, it } from 'vitest';
import { CoordinationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS, mergePatch, toKubeTime } from '@herdless/core';
import { planShardLeaseName, planShardOf } from '../src/index.js';
import { shareInForce } from '../src/sharding/budget-agreement.js';
import { budgetRecordOf, shardReportOf } from '../src/sharding/shard-share.js';
import { adminKubeConfig, REPLICA_LEASE_NAME, schedulerReplicas, uniqueNamespace } from '../../../test/support/index.js';
import { createExternalSecret, uniquePrefix, waitFor, withReplicaSuite } from './support.js';

const SHARDS = 2;
const BUDGET_RPS = 20;
/** The floor of each share: the spec reserve (0.2 by default) over the shards. */
const FLOOR_RPS = (0.2 * BUDGET_RPS) / SHARDS;
const PER_SHARD = 10;

describe("plan shards' budget shares from their demand", () => {
  const kc = adminKubeConfig();
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = uniqueNamespace('sched-shares');
  const prefix = uniquePrefix('shares');
  const replicas = schedulerReplicas({ namespace, queuePrefix: prefix });
  const leaseOf = async (shard: number) => coordination.readNamespacedLease({ name: planShardLeaseName(REPLICA_LEASE_NAME, shard), namespace });

  /** Creates an ExternalSecret in `shard` refreshing every `interval`, with a status saying it synced just now. */
  const createSynced = async (shard: number, index: number, interval: string): Promise<void> => {
    let name = '';
    for (let i = 0; ; i++) if (planShardOf(namespace, (name = `s${shard}-${index}-${i}`), SHARDS) === shard) break;
    const { generation } = await createExternalSecret(kc, namespace, name, { refreshInterval: interval });
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: EXTERNAL_SECRETS_GROUP,
        version: EXTERNAL_SECRETS_VERSION,
        plural: PLURALS.ExternalSecret,
        namespace,
        name,
        body: { status: { refreshTime: toKubeTime(Date.now()), syncedResourceVersion: String(generation), conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced', message: 'synced', lastTransitionTime: toKubeTime(Date.now()) }] } },
      },
      mergePatch,
    );
  };

  withReplicaSuite(kc, namespace, replicas);

  it('shard 0 with 10× the demand of shard 1 gets 10× its share above the floor, and the two shares sum to at most the budget', async () => {
    await Promise.all(Array.from({ length: PER_SHARD }, (_, i) => [createSynced(0, i, '10s'), createSynced(1, i, '100s')]).flat());
    for (const r of ['replica-a', 'replica-b']) replicas.start(r, { args: ['--plan-shards', String(SHARDS), '--budgets', `aws-sm=${BUDGET_RPS}`] });

    // Settled on both shards' demands, and acknowledged by both owners.
    const { record, key } = await waitFor(
      'a settled budget record of both shards\' demands, seen by both owners',
      async () => {
        const leases = await Promise.all([leaseOf(0), leaseOf(1)]);
        const record = budgetRecordOf(leases[0]);
        const reports = leases.map(shardReportOf);
        const entry = Object.entries(record?.demands ?? {}).find(([, v]) => v.length === SHARDS && v.every((d) => d > 0));
        if (!record?.settled || !entry || reports.some((r) => r?.seen !== record.version)) return undefined;
        // The record holds what the owners publish now.
        if (reports.some((r, i) => r?.demands?.[entry[0]] !== entry[1][i])) return undefined;
        return { record, key: entry[0] };
      },
      60_000,
      200,
    );
    const demands = record.demands[key] as number[];
    // Calls a second each shard plans: 10 ExternalSecrets of one call every 10 s, and every 100 s.
    expect(demands).toEqual([1, 0.1]);
    const shares = [0, 1].map((i) => shareInForce(record, i, SHARDS, key, BUDGET_RPS, FLOOR_RPS));
    expect(shares[0] as number).toBeGreaterThan(shares[1] as number);
    expect(Math.round((shares[0] as number) * 1000) + Math.round((shares[1] as number) * 1000)).toBeLessThanOrEqual(BUDGET_RPS * 1000);
    // Above the floor, in proportion to demand (to the thousandth each share is rounded down to).
    expect(((shares[0] as number) - FLOOR_RPS) / ((shares[1] as number) - FLOOR_RPS)).toBeCloseTo(10, 1);
    // Both shards held by two replicas, one each: the demands and acknowledgements crossed processes.
    const holders = await Promise.all([leaseOf(0), leaseOf(1)]).then((ls) => ls.map((l) => l.spec?.holderIdentity));
    expect(new Set(holders).size).toBe(2);
  });
});
