// Warm caches of the three external-secrets.io/v1 resources, across all namespaces or, with
// watchNamespace, ExternalSecrets and SecretStores of that one (ClusterSecretStores are
// cluster-scoped). Every
// replica runs them (a standby that takes over plans from memory at once); only the leader
// acts on their events. Read-only: nothing here writes to the API server.
import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { PLURALS, createExternalSecretsInformer, type Logger, type ResilientInformer } from '@herdless/core';

export type ResourceKind = 'ExternalSecret' | 'SecretStore' | 'ClusterSecretStore';
export type ResourceEvent = 'add' | 'update' | 'delete';
export type ResourceListener = (kind: ResourceKind, event: ResourceEvent, obj: KubernetesObject) => void;

export interface ExternalSecretsInformers {
  externalSecrets: ResilientInformer<KubernetesObject>;
  secretStores: ResilientInformer<KubernetesObject>;
  clusterSecretStores: ResilientInformer<KubernetesObject>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once all three have delivered their first list. */
  synced(): Promise<void>;
  /** Listens to every change of the three resources; returns the unsubscribe function. */
  subscribe(listener: ResourceListener): () => void;
}

export function createExternalSecretsInformers(kc: KubeConfig, logger: Logger, watchNamespace?: string): ExternalSecretsInformers {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const make = (plural: string, namespace: string | undefined): ResilientInformer<KubernetesObject> =>
    createExternalSecretsInformer({ kc, custom, name: plural, plural, namespace, logger });
  const externalSecrets = make(PLURALS.ExternalSecret, watchNamespace);
  const secretStores = make(PLURALS.SecretStore, watchNamespace);
  const clusterSecretStores = make(PLURALS.ClusterSecretStore, undefined);
  const all = [externalSecrets, secretStores, clusterSecretStores];
  // The informers' own listeners are registered once; sessions come and go through subscribe().
  const listeners = new Set<ResourceListener>();
  const forward = (kind: ResourceKind, informer: ResilientInformer<KubernetesObject>): void => {
    for (const event of ['add', 'update', 'delete'] as const) {
      informer.on(event, (obj: KubernetesObject) => {
        for (const l of listeners) l(kind, event, obj);
      });
    }
  };
  forward('ExternalSecret', externalSecrets);
  forward('SecretStore', secretStores);
  forward('ClusterSecretStore', clusterSecretStores);
  return {
    externalSecrets,
    secretStores,
    clusterSecretStores,
    // Stores first, so the first ExternalSecret events find their store in the cache.
    async start() {
      await Promise.all([secretStores.start(), clusterSecretStores.start()]);
      await externalSecrets.start();
    },
    async stop() {
      await Promise.all(all.map((i) => i.stop()));
    },
    async synced() {
      await Promise.all(all.map((i) => i.synced()));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
