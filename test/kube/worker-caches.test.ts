// The worker's warm caches on the real API server: every namespace by default, one namespace
// with watchNamespace (ExternalSecrets, SecretStores and managed Secrets of the others stay out;
// ClusterSecretStores are cluster-scoped and stay in).
import { afterAll, describe, expect, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import {
  createLogger,
  EXTERNAL_SECRETS_GROUP,
  EXTERNAL_SECRETS_VERSION,
  kubeClients,
  loadKubeConfig,
  MANAGED_LABEL,
  PLURALS,
  type KubeClients,
} from '@herdless/core';
import { createWorkerCaches, type WorkerCaches } from '@herdless/worker';
import { adminKubeConfig, injected, suiteNamespace, uniqueNamespace } from '../support/index.js';

describe('worker caches', () => {
  const mine = suiteNamespace('caches-mine');
  const other = suiteNamespace('caches-other');
  const clusterStore = uniqueNamespace('caches-css');
  const kube: KubeClients = kubeClients(loadKubeConfig(injected('kubeconfigPath')));
  const custom = adminKubeConfig().makeApiClient(CustomObjectsApi);
  const logger = createLogger('test', 'warn');
  const started: WorkerCaches[] = [];

  afterAll(async () => {
    await Promise.all(started.map((c) => c.stop()));
    await custom.deleteClusterCustomObject({ group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ClusterSecretStore, name: clusterStore }).catch(() => undefined);
  });

  async function seed(namespace: string): Promise<void> {
    const base = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, namespace };
    const apiVersion = `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`;
    await custom.createNamespacedCustomObject({
      ...base,
      plural: PLURALS.SecretStore,
      body: { apiVersion, kind: 'SecretStore', metadata: { name: 'store' }, spec: { provider: { aws: { service: 'SecretsManager', region: 'us-east-1' } } } },
    });
    await custom.createNamespacedCustomObject({
      ...base,
      plural: PLURALS.ExternalSecret,
      body: {
        apiVersion,
        kind: 'ExternalSecret',
        metadata: { name: 'es' },
        spec: { secretStoreRef: { name: 'store', kind: 'SecretStore' }, target: { name: 'target' }, data: [{ secretKey: 'k', remoteRef: { key: 'remote' } }] },
      },
    });
    await kube.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'target', labels: { [MANAGED_LABEL]: 'true' } }, data: {} } });
  }

  async function cachesOf(namespace?: string): Promise<WorkerCaches> {
    const caches = createWorkerCaches(kube, logger, namespace);
    started.push(caches);
    await caches.start();
    return caches;
  }

  it('holds every namespace by default, one namespace with watchNamespace', async () => {
    await seed(mine);
    await seed(other);
    await custom.createClusterCustomObject({
      group: EXTERNAL_SECRETS_GROUP,
      version: EXTERNAL_SECRETS_VERSION,
      plural: PLURALS.ClusterSecretStore,
      body: {
        apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`,
        kind: 'ClusterSecretStore',
        metadata: { name: clusterStore },
        spec: { provider: { aws: { service: 'SecretsManager', region: 'us-east-1' } } },
      },
    });
    const seen = (c: WorkerCaches, ns: string) => ({
      externalSecret: c.externalSecret(ns, 'es')?.metadata?.namespace,
      store: c.store('SecretStore', 'store', ns)?.metadata?.namespace,
      managedSecret: c.managedSecret(ns, 'target')?.metadata?.namespace,
    });

    const all = await cachesOf();
    expect(seen(all, mine)).toEqual({ externalSecret: mine, store: mine, managedSecret: mine });
    expect(seen(all, other)).toEqual({ externalSecret: other, store: other, managedSecret: other });
    expect(all.store('ClusterSecretStore', clusterStore)?.metadata?.name).toBe(clusterStore);

    const scoped = await cachesOf(mine);
    expect(seen(scoped, mine)).toEqual({ externalSecret: mine, store: mine, managedSecret: mine });
    expect(seen(scoped, other)).toEqual({ externalSecret: undefined, store: undefined, managedSecret: undefined });
    expect(scoped.store('ClusterSecretStore', clusterStore)?.metadata?.name).toBe(clusterStore);
  });
});
