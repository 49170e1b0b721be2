// Warm, read-only caches of what a sync reads, so a routine refresh costs one provider call and
// one status write instead of five API round trips. The API server stays the truth: a cache
// miss, or an object older than the job, falls back to a direct read, and every write goes
// against a fresh read (see apply-secret.ts). Every cache is trimmed (core's trimForCache): no
// managedFields, no kubectl last-applied-configuration; the managed Secrets keep the
// managedFields entries of ExternalSecrets' field managers, which target-secret.ts reads.
import type { KubernetesObject, V1Namespace, V1Secret } from '@kubernetes/client-node';
import {
  createExternalSecretsInformer,
  createResilientInformer,
  listPageParams,
  MANAGED_LABEL,
  PLURALS,
  trimForCache,
  type KubeClients,
  type Logger,
  type ResilientInformer,
  type StoreKind,
} from '@herdless/core';
import { EXTERNAL_SECRET_FIELD_MANAGER_PREFIX } from './target-secret.js';

export interface WorkerCaches {
  externalSecret(namespace: string, name: string): KubernetesObject | undefined;
  store(kind: StoreKind, name: string, namespace?: string): KubernetesObject | undefined;
  /** Only Secrets Herdless manages (label reconcile.external-secrets.io/managed=true). */
  managedSecret(namespace: string, name: string): V1Secret | undefined;
  /** A Namespace's labels (for a ClusterSecretStore's namespaceSelector), undefined when not cached. */
  namespaceLabels(name: string): Record<string, string> | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** With `namespace` (the workers' watchNamespace), ExternalSecrets, SecretStores, Secrets and the Namespace of that namespace only. */
export function createWorkerCaches(kube: KubeClients, logger: Logger, namespace?: string): WorkerCaches {
  const custom = (name: string, plural: string, ns: string | undefined) =>
    createExternalSecretsInformer({ kc: kube.kc, custom: kube.custom, name, plural, namespace: ns, logger });
  const labelSelector = `${MANAGED_LABEL}=true`;
  const namespaceSelector = namespace ? `metadata.name=${namespace}` : undefined;
  const informers: Record<string, ResilientInformer<KubernetesObject>> = {
    es: custom('worker-externalsecrets', PLURALS.ExternalSecret, namespace),
    ss: custom('worker-secretstores', PLURALS.SecretStore, namespace),
    // Cluster-scoped: always cluster-wide.
    css: custom('worker-clustersecretstores', PLURALS.ClusterSecretStore, undefined),
    secrets: createResilientInformer({
      kc: kube.kc,
      name: 'worker-managed-secrets',
      path: namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets` : '/api/v1/secrets',
      labelSelector,
      list: async (page) => {
        const paged = { labelSelector, ...listPageParams(page) };
        return (await (namespace ? kube.core.listNamespacedSecret({ ...paged, namespace }) : kube.core.listSecretForAllNamespaces(paged))) as never;
      },
      transform: trimManagedSecret,
      logger,
    }),
    namespaces: createResilientInformer({
      kc: kube.kc,
      name: 'worker-namespaces',
      path: '/api/v1/namespaces',
      ...(namespaceSelector ? { fieldSelector: namespaceSelector } : {}),
      list: async (page) => (await kube.core.listNamespace({ ...listPageParams(page), ...(namespaceSelector ? { fieldSelector: namespaceSelector } : {}) })) as never,
      logger,
    }),
  };
  const all = Object.values(informers);
  return {
    externalSecret: (namespace, name) => informers.es!.get(name, namespace),
    store: (kind, name, namespace) =>
      kind === 'ClusterSecretStore' ? informers.css!.get(name) : informers.ss!.get(name, namespace),
    managedSecret: (namespace, name) => informers.secrets!.get(name, namespace) as V1Secret | undefined,
    namespaceLabels: (name) => {
      const ns = informers.namespaces!.get(name) as V1Namespace | undefined;
      return ns ? (ns.metadata?.labels ?? {}) : undefined;
    },
    async start() {
      await Promise.all(all.map((i) => i.start()));
      await Promise.all(all.map((i) => i.synced()));
    },
    async stop() {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}

/**
 * A managed Secret as the worker keeps it: trimForCache's, with back the managedFields entries of
 * ExternalSecrets' field managers (their manager and fields only), from which a routine refresh
 * decides "unchanged" on the cached Secret (managedKeysOf in target-secret.ts).
 */
export function trimManagedSecret(obj: KubernetesObject): KubernetesObject {
  const ours = (obj.metadata?.managedFields ?? [])
    .filter((entry) => entry.manager?.startsWith(EXTERNAL_SECRET_FIELD_MANAGER_PREFIX))
    .map((entry) => ({ manager: entry.manager, fieldsV1: entry.fieldsV1 }));
  const trimmed = trimForCache(obj);
  return ours.length === 0 ? trimmed : { ...trimmed, metadata: { ...trimmed.metadata, managedFields: ours } };
}
