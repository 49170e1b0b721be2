// What the informers keep, on the real API server: an ExternalSecret after its first status write
// (two managedFields entries, the creator's and the status writer's) and applied with kubectl's
// last-applied-configuration is cached without either, everything else as the server has it; a
// managed Secret in the worker's cache keeps only the ExternalSecrets' own managedFields entries
// (target-secret.ts reads them); and a list comes page by page, every object in the cache.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createExternalSecretsInformer,
  createLogger,
  EXTERNAL_SECRETS_GROUP,
  EXTERNAL_SECRETS_VERSION,
  kubeClients,
  LAST_APPLIED_ANNOTATION,
  loadKubeConfig,
  MANAGED_LABEL,
  parseExternalSecret,
  PLURALS,
  writeObject,
  type KubeClients,
  type ResilientInformer,
} from '@herdless/core';
import { applySecret, createWorkerCaches, markSynced, type WorkerCaches } from '@herdless/worker';
import { adminKubeConfig, injected, suiteNamespace, waitUntil } from '../support/index.js';

describe('informer trimming', () => {
  const namespace = suiteNamespace('informer-trim');
  const kube: KubeClients = kubeClients(loadKubeConfig(injected('kubeconfigPath')));
  const custom = adminKubeConfig().makeApiClient(CustomObjectsApi);
  const base = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ExternalSecret, namespace };
  const logger = createLogger('test', 'warn');
  const stops: Array<() => Promise<void>> = [];

  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
  });

  const externalSecret = (name: string, annotations: Record<string, string> = {}) => ({
    apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`,
    kind: 'ExternalSecret',
    metadata: { name, annotations },
    spec: { refreshInterval: '1h', secretStoreRef: { name: 'store', kind: 'SecretStore' }, target: { name }, data: [{ secretKey: 'k', remoteRef: { key: 'remote' } }] },
  });

  async function informerOf(listPageSize?: number): Promise<ResilientInformer<never>> {
    const informer = createExternalSecretsInformer({
      kc: kube.kc,
      custom: kube.custom,
      name: 'trim-test',
      plural: PLURALS.ExternalSecret,
      namespace,
      logger,
      ...(listPageSize === undefined ? {} : { listPageSize }),
    });
    stops.push(() => informer.stop());
    await informer.start();
    await informer.synced();
    return informer as ResilientInformer<never>;
  }

  async function workerCaches(): Promise<WorkerCaches> {
    const caches = createWorkerCaches(kube, logger, namespace);
    stops.push(() => caches.stop());
    await caches.start();
    return caches;
  }

  it('caches an ExternalSecret without managedFields and last-applied-configuration, the rest as the server has it', async () => {
    const applied = externalSecret('trimmed');
    const created = await custom.createNamespacedCustomObject({
      ...base,
      body: externalSecret('trimmed', { [LAST_APPLIED_ANNOTATION]: JSON.stringify(applied), team: 'payments' }),
    });
    await markSynced(kube, parseExternalSecret(created), new Date());
    const server = (await custom.getNamespacedCustomObject({ ...base, name: 'trimmed' })) as { metadata: Record<string, unknown> & { annotations: Record<string, string> } };
    expect((server.metadata.managedFields as unknown[]).length).toBe(2);

    const { managedFields: _, ...metadata } = server.metadata;
    const { [LAST_APPLIED_ANNOTATION]: _applied, ...annotations } = server.metadata.annotations;
    const expected = { ...server, metadata: { ...metadata, annotations } };
    expect(annotations).toEqual({ team: 'payments' });
    expect((await informerOf()).get('trimmed', namespace)).toEqual(expected);
    // The worker's ExternalSecret cache is the same informer's.
    expect((await workerCaches()).externalSecret(namespace, 'trimmed')).toEqual(expected);
  });

  it("keeps a managed Secret's managedFields entries of ExternalSecrets' field managers only", async () => {
    const name = 'managed-target';
    const path = `/api/v1/namespaces/${namespace}/secrets`;
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name, labels: { [MANAGED_LABEL]: 'true' }, annotations: { [LAST_APPLIED_ANNOTATION]: '{"data":{"k":"djE="}}' } }, data: { k: 'djE=' } };
    await writeObject(kube.kc, 'POST', `${path}?fieldManager=kubectl-client-side-apply`, secret);
    const fresh = await kube.core.readNamespacedSecret({ namespace, name });
    const manager = `externalsecrets.external-secrets.io/${name}`;
    await writeObject(kube.kc, 'PUT', `${path}/${name}?fieldManager=${encodeURIComponent(manager)}`, {
      ...secret,
      metadata: { ...secret.metadata, resourceVersion: fresh.metadata?.resourceVersion, labels: { ...secret.metadata.labels, mine: 'yes' } },
      data: { k: 'djI=' },
    });
    const server = await kube.core.readNamespacedSecret({ namespace, name });
    const ours = server.metadata?.managedFields?.find((e) => e.manager === manager);
    expect(server.metadata?.managedFields?.map((e) => e.manager).sort()).toEqual(['kubectl-client-side-apply', manager].sort());

    const cached = (await workerCaches()).managedSecret(namespace, name);
    expect(cached?.metadata?.managedFields).toEqual([{ manager, fieldsV1: ours?.fieldsV1 }]);
    expect(cached?.metadata?.annotations ?? {}).toEqual({});
    expect(cached?.data).toEqual({ k: 'djI=' });
    expect(cached?.metadata?.labels).toEqual({ [MANAGED_LABEL]: 'true', mine: 'yes' });
  });

  it('a label no longer rendered is removed on the cached path: the cached Secret still says which labels were ours', async () => {
    const es = parseExternalSecret(await custom.createNamespacedCustomObject({ ...base, body: externalSecret('relabelled') }));
    const caches = await workerCaches();
    const content = (labels: Record<string, string>) => ({ type: 'Opaque', data: { k: 'djE=' }, labels, annotations: {}, immutable: undefined });
    expect(await applySecret(kube, es, content({ tier: 'gold' }), { caches })).toBe('created');
    await waitUntil(() => caches.managedSecret(namespace, 'relabelled'), { what: 'the created Secret in the worker cache', timeoutMs: 10_000 });
    // Judged on the cached Secret: without its managedFields entry, "tier" would look like
    // somebody else's label, kept, and the Secret taken for unchanged.
    expect(await applySecret(kube, es, content({}), { caches })).toBe('updated');
    expect((await kube.core.readNamespacedSecret({ namespace, name: 'relabelled' })).metadata?.labels?.tier).toBeUndefined();
  });

  it('lists page by page: every ExternalSecret in the cache', async () => {
    const names = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
    for (const name of names) await custom.createNamespacedCustomObject({ ...base, body: externalSecret(name) });
    const cached = (await informerOf(2)).list().map((o: { metadata?: { name?: string } }) => o.metadata?.name);
    expect(cached.filter((n) => n?.startsWith('page-')).sort()).toEqual(names);
  });
});
