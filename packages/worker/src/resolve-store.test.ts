import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseExternalSecret, type KubeClients, type StoreKind } from '@herdless/core';
import { resolveStore } from './resolve-store.js';
import type { WorkerCaches } from './worker-caches.js';

const aws = { aws: { service: 'SecretsManager', region: 'eu-west-1' } };

/** An API server that holds nothing but Namespaces, and counts what is read from it. */
function apiServer(namespaces: Record<string, Record<string, string>>) {
  const reads: string[] = [];
  const notFound = () => Object.assign(new Error('not found'), { code: 404 });
  const kube = {
    core: {
      readNamespace: async ({ name }: { name: string }) => {
        reads.push(`namespace/${name}`);
        if (!namespaces[name]) throw notFound();
        return { metadata: { name, labels: namespaces[name] } };
      },
    },
    custom: {
      getNamespacedCustomObject: async ({ plural, namespace, name }: { plural: string; namespace: string; name: string }) => {
        reads.push(`${plural}/${namespace}/${name}`);
        throw notFound();
      },
      getClusterCustomObject: async ({ plural, name }: { plural: string; name: string }) => {
        reads.push(`${plural}/${name}`);
        throw notFound();
      },
      listClusterCustomObject: async ({ plural }: { plural: string }) => {
        reads.push(`list ${plural}`);
        return { items: [{ metadata: { name: 'shared', namespace: 'team-b' } }] };
      },
    },
  } as unknown as KubeClients;
  return { kube, reads };
}

function caches(objects: { stores?: KubernetesObject[]; namespaces?: Record<string, Record<string, string>> }): WorkerCaches {
  return {
    externalSecret: () => undefined,
    store: (kind: StoreKind, name: string, namespace?: string) =>
      objects.stores?.find((s) => s.kind === kind && s.metadata?.name === name && s.metadata?.namespace === namespace),
    managedSecret: () => undefined,
    namespaceLabels: (name: string) => objects.namespaces?.[name],
    start: async () => undefined,
    stop: async () => undefined,
  };
}

const clusterStore = (name: string, spec: Record<string, unknown>): KubernetesObject =>
  ({ apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', metadata: { name }, spec: { provider: aws, ...spec } }) as KubernetesObject;

function es(namespace: string, ref: { name: string; kind?: string }) {
  return parseExternalSecret({ metadata: { name: 'app', namespace }, spec: { secretStoreRef: ref, data: [{ secretKey: 'k', remoteRef: { key: 'r' } }] } });
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('resolveStore', () => {
  it('a missing SecretStore is not found in the ExternalSecret\'s namespace, naming no other namespace', async () => {
    const { kube, reads } = apiServer({});
    const e = await failure(resolveStore(kube, es('team-a', { name: 'shared' }), caches({})));
    expect(e).toMatchObject({ reason: 'SecretStoreNotFound', retry: 'terminal' });
    expect((e as Error).message).toContain('"team-a"');
    expect((e as Error).message).not.toContain('team-b');
    expect(reads).toEqual(['secretstores/team-a/shared']);
  });

  it('matches namespaceRegexes with RE2 as an unanchored search, linear on a catastrophic pattern', async () => {
    const { kube } = apiServer({});
    const namespace = `${'a'.repeat(50)}-x`;
    const store = clusterStore('css', { conditions: [{ namespaceRegexes: ['^(a+)+$'] }, { namespaceRegexes: ['(?i)TEAM-\\z', 'team-'] }] });
    const c = caches({ stores: [store] });
    expect(await failure(resolveStore(kube, es(namespace, { name: 'css', kind: 'ClusterSecretStore' }), c))).toMatchObject({ reason: 'SecretStoreNotAllowed' });
    expect(await resolveStore(kube, es('my-team-a', { name: 'css', kind: 'ClusterSecretStore' }), c)).toMatchObject({ kind: 'ClusterSecretStore' });
  });

  it('a namespaceRegexes pattern RE2 rejects makes the store invalid, with the field named', async () => {
    const { kube } = apiServer({});
    const store = clusterStore('css', { conditions: [{ namespaces: ['team-a'] }, { namespaceRegexes: ['ok', '(?=x)'] }] });
    expect(await failure(resolveStore(kube, es('team-a', { name: 'css', kind: 'ClusterSecretStore' }), caches({ stores: [store] })))).toMatchObject({
      reason: 'InvalidStoreSpec',
      retry: 'terminal',
      message: expect.stringContaining('ClusterSecretStore "css" spec.conditions[1].namespaceRegexes[1]'),
    });
  });

  it('a store that fails its schema is a terminal InvalidStoreSpec naming the field', async () => {
    const { kube } = apiServer({});
    const store = clusterStore('css', { refreshInterval: 1e17 });
    expect(await failure(resolveStore(kube, es('team-a', { name: 'css', kind: 'ClusterSecretStore' }), caches({ stores: [store] })))).toMatchObject({
      reason: 'InvalidStoreSpec',
      retry: 'terminal',
      message: expect.stringContaining('ClusterSecretStore "css" fails its schema at spec.refreshInterval'),
    });
  });

  it('reads a namespaceSelector\'s labels from the Namespace cache, and the API server only on a miss', async () => {
    const { kube, reads } = apiServer({ 'team-b': { tier: 'prod' } });
    const store = clusterStore('css', { conditions: [{ namespaceSelector: { matchLabels: { tier: 'prod' } } }] });
    const c = caches({ stores: [store], namespaces: { 'team-a': { tier: 'prod' } } });
    expect(await resolveStore(kube, es('team-a', { name: 'css', kind: 'ClusterSecretStore' }), c)).toMatchObject({ kind: 'ClusterSecretStore' });
    expect(reads).toEqual([]);
    expect(await resolveStore(kube, es('team-b', { name: 'css', kind: 'ClusterSecretStore' }), c)).toMatchObject({ kind: 'ClusterSecretStore' });
    expect(reads).toEqual(['namespace/team-b']);
  });
});
