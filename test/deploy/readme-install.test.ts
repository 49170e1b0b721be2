// The README's install section, followed step by step on a control plane of this test's own
// (without CRDs, as a new cluster): its values file and its `helm install` with the real helm,
// then, since no registry is reachable here, each installed Deployment's container started by
// hand from the production bundle with the Deployment's args and environment and its
// ServiceAccount's token; then the README's example manifests. The ExternalSecret turns Ready.
// What the test adds: its Redis and our AWS endpoint in place of AWS (a values file of its own).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, KubernetesObjectApi, type KubernetesObject, type V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { createServiceAccountKubeconfig, freeLoopbackPort } from '@herdless/lab';
import { injected } from '../support/index.js';
import { eventually, listExternalSecrets } from '../e2e/support/kube.js';
import { spawnHerdless } from '../e2e/support/processes.js';
import { REPO_ROOT } from './support/bundle.js';
import { runHelm } from './support/helm.js';
import { installBlocks } from './support/readme.js';
import { showOutputOnFailure, startOwnCluster, type OwnCluster } from './support/own-cluster.js';

const blocks = installBlocks();
let cluster: OwnCluster;
let helmOutput = '';

/** A README command line as arguments ("helm install … --values values.yaml"). */
const words = (line: string) => line.replace(/#.*$/, '').trim().split(/\s+/);

/** The container's environment as the kubelet would give it: fieldRefs and secretKeyRefs resolved. */
async function containerEnv(d: V1Deployment, podName: string): Promise<Record<string, string>> {
  const { admin } = cluster;
  const env: Record<string, string> = {};
  for (const e of d.spec?.template.spec?.containers[0]?.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = d.metadata?.namespace ?? '';
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = podName;
    else if (e.valueFrom?.secretKeyRef) {
      const s = await admin.core.readNamespacedSecret({ namespace: d.metadata?.namespace ?? '', name: e.valueFrom.secretKeyRef.name ?? '' });
      env[e.name] = Buffer.from(s.data?.[e.valueFrom.secretKeyRef.key] ?? '', 'base64').toString('utf8');
    } else throw new Error(`env ${e.name}: no way to resolve ${JSON.stringify(e.valueFrom)} by hand`);
  }
  return env;
}

beforeAll(async () => {
  cluster = await startOwnCluster('readme-install', { controlPlane: () => ({ crds: [] }), aws: { region: 'eu-west-1' } });
  const { cp, admin, aws, dir, processes } = cluster;
  aws.putSecret({ name: 'prod/database', secretString: JSON.stringify({ password: 'readme-password' }) });

  // Step 4: the README's values file and its helm install, plus the test's Redis and AWS endpoint.
  writeFileSync(join(dir, 'values.yaml'), blocks.values ?? '');
  writeFileSync(join(dir, 'local.yaml'), JSON.stringify({ redis: { url: injected('redisUrl') }, aws: { endpoint: aws.url } }));
  const install = (blocks.helm ?? '').split('\n').find((l) => l.startsWith('helm install')) ?? '';
  const args = words(install).slice(1).map((w) => (w === 'values.yaml' ? join(dir, 'values.yaml') : w === 'deploy/chart' ? join(REPO_ROOT, 'deploy', 'chart') : w));
  const helm = await runHelm([...args, '--values', join(dir, 'local.yaml')], { ...process.env, KUBECONFIG: cp.kubeconfigPath, HELM_CACHE_HOME: join(dir, 'helm-cache'), HELM_CONFIG_HOME: join(dir, 'helm-config'), HELM_DATA_HOME: join(dir, 'helm-data') });
  helmOutput = helm.stdout + helm.stderr;
  if (helm.code !== 0) throw new Error(`helm install failed: ${helmOutput}`);

  // In place of the pods: each Deployment's container, from the bundle, as its ServiceAccount.
  const namespace = args[args.indexOf('--namespace') + 1] as string;
  const deployments = (await cp.kubeConfig().makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace })).items;
  for (const d of deployments) {
    const pod = d.spec!.template.spec!;
    const name = `${d.metadata?.name}-by-hand`;
    const kubeconfig = await createServiceAccountKubeconfig(cp, { namespace, name: pod.serviceAccountName ?? 'default' });
    const env = await containerEnv(d, name);
    // Pods have a network namespace each; processes on one host need a port each.
    env.HERDLESS_METRICS_PORT = String(await freeLoopbackPort());
    processes.push(spawnHerdless(name, pod.containers[0]?.args ?? [], { ...env, KUBECONFIG: kubeconfig.kubeconfigPath }));
  }

  // Step 5: the README's example manifests.
  const check = blocks.check ?? '';
  const ns = /kubectl create namespace (\S+)/.exec(check)?.[1];
  if (ns) await admin.core.createNamespace({ body: { metadata: { name: ns } } });
  const api = KubernetesObjectApi.makeApiClient(cp.kubeConfig());
  for (const doc of parseAllDocuments(blocks.example ?? '')) await api.create(doc.toJSON() as KubernetesObject);
}, 300_000);

afterEach(showOutputOnFailure(() => cluster));
afterAll(() => cluster?.stop());

describe("the README's install section", () => {
  it('helm install of the README values installs the CRDs, two schedulers and two workers, and prints the notes', async () => {
    expect(helmOutput).toContain('is installed as "herdless" in namespace herdless-system');
    const deployments = (await cluster.cp.kubeConfig().makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: 'herdless-system' })).items;
    expect(deployments.map((d) => [d.metadata?.name, d.spec?.replicas]).sort()).toEqual([
      ['herdless-scheduler', 2],
      ['herdless-worker', 2],
    ]);
    expect(cluster.processes.map((p) => p.name).sort()).toEqual(['herdless-scheduler-by-hand', 'herdless-worker-by-hand']);
  });

  it("the example ExternalSecret becomes Ready and its Secret holds the remote value", async () => {
    const es = await eventually('the README example Ready', 120_000, async () => (await listExternalSecrets(cluster.admin, 'team-a')).find((e) => e.name === 'database' && e.ready === 'True'));
    expect(es.reason).toBe('SecretSynced');
    const secret = await cluster.admin.core.readNamespacedSecret({ namespace: 'team-a', name: 'database-credentials' });
    expect(Buffer.from(secret.data?.password ?? '', 'base64').toString('utf8')).toBe('readme-password');
  });
});
