// The chart's Lease grants with plan shards (scheduler.planShards above 1 adds list, delete and
// patch on Leases) are exactly what sharded schedulers call. A control plane of this test's own
// writes an audit log; two `herdless scheduler --plan-shards 2` processes from the production
// bundle run as the scheduler ServiceAccount `helm template` renders with planShards 2. They
// register as members, list the Leases, split the two shards, publish their demand on their
// shard's Lease and agree on the budgets (shard 0's record), then stop on SIGTERM (each releases
// its shards and deletes its membership Lease). Then: no Lease call was refused, none was made
// without a grant, and every Lease grant was used.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { createServiceAccountKubeconfig } from '@herdless/lab';
import { BUDGETS_ANNOTATION, DEMAND_ANNOTATION, planShardLeaseName, planShardOf } from '@herdless/scheduler';
import { injected, planShardLeases } from '../support/index.js';
import { createExternalSecret, createStore, eventually } from '../e2e/support/kube.js';
import { spawnHerdless, stopAll } from '../e2e/support/processes.js';
import { bindChartRbac } from '../e2e/support/rbac.js';
import { renderChart } from './support/helm.js';
import { serviceAccountAudit, showOutputOnFailure, startOwnCluster, type OwnCluster } from './support/own-cluster.js';

const SYSTEM = 'herdless-shards';
const RELEASE = 'shards';
const LEASE = `${RELEASE}-scheduler`;
const TEAM = 'team-a';
const values = { scheduler: { planShards: 2 } };
let env: OwnCluster;
const audit = serviceAccountAudit();


beforeAll(async () => {
  env = await startOwnCluster('rbac-shards', { controlPlane: audit.controlPlane });
  const { cp, admin, aws, processes } = env;
  for (const name of [SYSTEM, TEAM]) await admin.core.createNamespace({ body: { metadata: { name } } });
  await admin.core.createNamespacedSecret({ namespace: TEAM, body: { metadata: { name: 'aws-credentials' }, stringData: { 'access-key-id': 'AKIDSHARDS', 'secret-access-key': 'shards-secret' } } });
  const ref = (key: string) => ({ name: 'aws-credentials', key });
  await createStore(admin, 'SecretStore', 'aws', TEAM, { provider: { aws: { service: 'SecretsManager', region: aws.region, auth: { secretRef: { accessKeyIDSecretRef: ref('access-key-id'), secretAccessKeySecretRef: ref('secret-access-key') } } } } });
  // One ExternalSecret in each shard, so each owner has demand to publish on its Lease.
  for (const shard of [0, 1]) {
    let i = 0;
    while (planShardOf(TEAM, `es-${shard}-${i}`, 2) !== shard) i++;
    await createExternalSecret(admin, TEAM, `es-${shard}-${i}`, { secretStoreRef: { name: 'aws', kind: 'SecretStore' }, refreshInterval: '1h', data: [{ secretKey: 'k', remoteRef: { key: 'app/one' } }] });
  }

  await bindChartRbac(cp.kubeConfig(), 'scheduler', SYSTEM, RELEASE, values);
  const kubeconfig = (await createServiceAccountKubeconfig(cp, { namespace: SYSTEM, name: `${RELEASE}-scheduler` })).kubeconfigPath;
  const common = ['scheduler', '--kubeconfig', kubeconfig, '--redis-url', injected('redisUrl'), '--queue-prefix', `shards${Date.now()}`, '--aws-endpoint', aws.url, '--log-level', 'warn'];
  const sharded = ['--namespace', SYSTEM, '--lease-name', LEASE, '--plan-shards', '2', '--lease-duration-seconds', '6', '--renew-deadline-seconds', '4', '--retry-period-seconds', '1'];
  processes.push(spawnHerdless('scheduler-a', [...common, ...sharded, '--identity', 'replica-a']), spawnHerdless('scheduler-b', [...common, ...sharded, '--identity', 'replica-b']));

  const coordination = admin.kc.makeApiClient(CoordinationV1Api);
  const annotations = async (shard: number) => (await coordination.readNamespacedLease({ name: planShardLeaseName(LEASE, shard), namespace: SYSTEM }).catch(() => undefined))?.metadata?.annotations ?? {};
  const holders = async () => (await planShardLeases(admin.kc, SYSTEM, LEASE, 2)).map((l) => l.holder);
  await eventually('the two shards held by the two replicas, one each', 60_000, async () => {
    const h = await holders();
    return h.includes('replica-a') && h.includes('replica-b') ? true : undefined;
  });
  // Each owner annotates its own shard's Lease (a merge patch); the holder of shard 0 writes the record.
  await eventually('both shards published a demand and shard 0 holds the budget record', 60_000, async () => {
    const [zero, one] = await Promise.all([annotations(0), annotations(1)]);
    return zero[DEMAND_ANNOTATION] && one[DEMAND_ANNOTATION] && zero[BUDGETS_ANNOTATION] ? true : undefined;
  });
  await stopAll(processes);
}, 180_000);

afterEach(showOutputOnFailure(() => env));
afterAll(() => env?.stop());

describe("the chart's Lease grants with plan shards, against the audit log of a run", () => {
  it('nothing refused, every Lease call granted, every Lease grant used', async () => {
    const username = `system:serviceaccount:${SYSTEM}:${RELEASE}-scheduler`;
    const leaseCalls = audit.requestsOf(username).filter((e) => e.objectRef?.resource === 'leases');
    expect(leaseCalls.filter((e) => e.responseStatus?.code === 403).map((e) => e.verb)).toEqual([]);
    const used = new Set(leaseCalls.map((e) => e.verb));

    const objects = await renderChart({ namespace: SYSTEM, release: RELEASE, values: { fullnameOverride: RELEASE, ...values } });
    const roles = objects.filter((o) => (o.kind === 'ClusterRole' || o.kind === 'Role') && o.metadata?.labels?.['app.kubernetes.io/component'] === 'scheduler') as Array<{
      rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    }>;
    const granted = new Set(roles.flatMap((r) => r.rules.filter((rule) => rule.apiGroups.includes('coordination.k8s.io') && rule.resources.includes('leases')).flatMap((rule) => rule.verbs)));

    expect([...used].filter((v) => !granted.has(v)).sort(), 'Lease calls made without a grant').toEqual([]);
    expect([...granted].filter((v) => !used.has(v)).sort(), 'Lease grants never used').toEqual([]);
    // The grants plan shards add, each seen in use (with one shard the chart grants none of them).
    expect([...used].sort()).toEqual(expect.arrayContaining(['delete', 'list', 'patch']));
  });
});
