// The rendered manifests as the API server judges them: every object of the default and of the
// large-cluster values passes a server-side dry run (apply, dryRun=All) on the local
// kube-apiserver, with the upstream CRDs of ServiceMonitor, PrometheusRule, ScaledObject and
// TriggerAuthentication installed from their projects' modules (cached by ensureHelm).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { ensureHelm, installCrds } from '@herdless/lab';
import { adminKubeConfig, createNamespace, deleteNamespace, uniqueNamespace } from '../support/index.js';
import { LARGE_CLUSTER_VALUES, parseManifests, renderChart } from './support/helm.js';

const kc = adminKubeConfig();
const namespace = uniqueNamespace('chart-dry-run');

beforeAll(async () => {
  const { crdDir } = await ensureHelm();
  const upstream = readdirSync(crdDir).flatMap((f) => parseManifests(readFileSync(join(crdDir, f), 'utf8')));
  await installCrds(kc, upstream);
  await createNamespace(kc, namespace);
});
afterAll(() => deleteNamespace(kc, namespace));

/** Server-side apply with dryRun=All: the API server validates and admits, and writes nothing. */
async function dryRun(objects: KubernetesObject[]): Promise<string[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const refused: string[] = [];
  for (const o of objects) {
    await api.patch(o, undefined, 'All', 'helm', true, PatchStrategy.ServerSideApply).catch((e: { code?: number; body?: unknown }) => {
      refused.push(`${o.kind} ${o.metadata?.name}: ${e.code} ${typeof e.body === 'string' ? e.body : JSON.stringify(e.body)}`);
    });
  }
  return refused;
}

describe('server-side dry run of the rendered chart', () => {
  it.each([
    ['the default values', [] as string[]],
    ['ci/large-cluster.yaml', [LARGE_CLUSTER_VALUES]],
  ])('%s: every object is accepted by the API server', async (_, valuesFiles) => {
    const objects = await renderChart({ namespace, valuesFiles });
    expect(objects.length).toBeGreaterThan(10);
    expect(await dryRun(objects)).toEqual([]);
  });

  it('a manifest the API server must refuse is refused, upstream kinds included (the dry run judges)', async () => {
    type Any = KubernetesObject & { spec: Record<string, any> };
    const objects = (await renderChart({ namespace, valuesFiles: [LARGE_CLUSTER_VALUES] })) as Any[];
    const deployment = objects.find((o) => o.kind === 'Deployment') as Any;
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor') as Any;
    const scaled = objects.find((o) => o.kind === 'ScaledObject') as Any;
    expect(
      await dryRun([
        { ...deployment, spec: { ...deployment.spec, replicas: -1 } },
        { ...monitor, spec: { ...monitor.spec, endpoints: [{ ...monitor.spec.endpoints[0], interval: 'fast' }] } },
        { ...scaled, spec: { ...scaled.spec, scaleTargetRef: {} } },
      ] as Any[]),
    ).toEqual([
      expect.stringMatching(/^Deployment .* 422 .*spec\.replicas/),
      expect.stringMatching(/^ServiceMonitor .* 422 .*interval/),
      expect.stringMatching(/^ScaledObject .* 422 .*scaleTargetRef\.name/),
    ]);
  });
});
