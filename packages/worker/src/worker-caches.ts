// Warm, read-only caches of what a sync reads, so a routine refresh costs one provider call and
// one status write instead of five API round trips. The API server stays the truth: a cache
// miss, or an object older than the job, falls back to a direct read, and every write goes
// against a fresh read (see apply-secret.ts).
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import {
  createResilientInformer,
  EXTERNAL_SECRETS_GROUP,
  EXTERNAL_SECRETS_VERSION,
  MANAGED_LABEL,
  PLURALS,
  type KubeClients,
  type Logger,
  type ResilientInformer,
  type StoreKind,
} from '@herdless/core';

export interface WorkerCaches {
  externalSecret(namespace: string, name: string): KubernetesObject | undefined;
  store(kind: StoreKind, name: string, namespace?: string): KubernetesObject | undefined;
  /** Only Secrets Herdless manages (label reconcile.external-secrets.io/managed=true). */
  managedSecret(namespace: string, name: string): V1Secret | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

type List = { items: KubernetesObject[] } & Record<string, unknown>;

/** With `namespace` (the workers' watchNamespace), ExternalSecrets, SecretStores and Secrets of that namespace only. */
export function createWorkerCaches(kube: KubeClients, logger: Logger, namespace?: string): WorkerCaches {
  const inNamespace = namespace ? `/namespaces/${namespace}` : '';
  // A namespaced custom resource: listed in `namespace` when set; a cluster-scoped one always cluster-wide.
  const customInformer = (name: string, plural: string, namespaced: boolean) => {
    const ns = namespaced ? namespace : undefined;
    const base = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural };
    return createResilientInformer<KubernetesObject>({
      kc: kube.kc,
      name,
      path: `/apis/${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}${ns ? inNamespace : ''}/${plural}`,
      list: async () => (await (ns ? kube.custom.listNamespacedCustomObject({ ...base, namespace: ns }) : kube.custom.listClusterCustomObject(base))) as List as never,
      logger,
    });
  };
  const labelSelector = `${MANAGED_LABEL}=true`;
  const informers: Record<string, ResilientInformer<KubernetesObject>> = {
    es: customInformer('worker-externalsecrets', PLURALS.ExternalSecret, true),
    ss: customInformer('worker-secretstores', PLURALS.SecretStore, true),
    css: customInformer('worker-clustersecretstores', PLURALS.ClusterSecretStore, false),
    secrets: createResilientInformer({
      kc: kube.kc,
      name: 'worker-managed-secrets',
      path: `/api/v1${inNamespace}/secrets`,
      labelSelector,
      list: async () =>
        (await (namespace ? kube.core.listNamespacedSecret({ namespace, labelSelector }) : kube.core.listSecretForAllNamespaces({ labelSelector }))) as never,
      logger,
    }),
  };
  const all = Object.values(informers);
  return {
    externalSecret: (namespace, name) => informers.es!.get(name, namespace),
    store: (kind, name, namespace) =>
      kind === 'ClusterSecretStore' ? informers.css!.get(name) : informers.ss!.get(name, namespace),
    managedSecret: (namespace, name) => informers.secrets!.get(name, namespace) as V1Secret | undefined,
    async start() {
      await Promise.all(all.map((i) => i.start()));
      await Promise.all(all.map((i) => i.synced()));
    },
    async stop() {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
