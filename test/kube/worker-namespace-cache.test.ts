// The worker's Namespace cache on the real API server: a ClusterSecretStore's namespaceSelector
// reads labels from it instead of a Namespace GET on every sync, and it follows label changes.
import { afterAll, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { createLogger, kubeClients, loadKubeConfig, mergePatch } from '@herdless/core';
import { createWorkerCaches, type WorkerCaches } from '@herdless/worker';
import { eventually } from '../e2e/support/kube.js';
import { adminKubeConfig, injected, suiteNamespace } from '../support/index.js';

describe('worker Namespace cache', () => {
  const mine = suiteNamespace('ns-cache-mine');
  const other = suiteNamespace('ns-cache-other');
  const kube = kubeClients(loadKubeConfig(injected('kubeconfigPath')));
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const started: WorkerCaches[] = [];

  afterAll(async () => {
    await Promise.all(started.map((c) => c.stop()));
  });

  async function cachesOf(namespace?: string): Promise<WorkerCaches> {
    const caches = createWorkerCaches(kube, createLogger('test', 'warn'), namespace);
    started.push(caches);
    await caches.start();
    return caches;
  }

  it('holds every Namespace\'s labels, and follows a change', async () => {
    const caches = await cachesOf();
    expect(caches.namespaceLabels(mine)).toMatchObject({ 'herdless.io/test': 'true' });
    expect(caches.namespaceLabels('no-such-namespace')).toBeUndefined();
    await core.patchNamespace({ name: mine, body: { metadata: { labels: { tier: 'prod' } } } }, mergePatch);
    await eventually('the label change in the cache', 10_000, async () => (caches.namespaceLabels(mine)?.tier === 'prod' ? true : undefined));
  });

  it('with watchNamespace, holds only that Namespace', async () => {
    const caches = await cachesOf(mine);
    expect(caches.namespaceLabels(mine)).toBeDefined();
    expect(caches.namespaceLabels(other)).toBeUndefined();
  });
});
