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

export function createWorkerCaches(kube: KubeClients, logger: Logger): WorkerCaches {
  const custom = (plural: string) => ({ group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural });
  const path = (plural: string) => `/apis/${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}/${plural}`;
  const informers: Record<string, ResilientInformer<KubernetesObject>> = {
    es: createResilientInformer({
      kc: kube.kc,
      name: 'worker-externalsecrets',
      path: path(PLURALS.ExternalSecret),
      list: async () => (await kube.custom.listClusterCustomObject(custom(PLURALS.ExternalSecret))) as List as never,
      logger,
    }),
    ss: createResilientInformer({
      kc: kube.kc,
      name: 'worker-secretstores',
      path: path(PLURALS.SecretStore),
      list: async () => (await kube.custom.listClusterCustomObject(custom(PLURALS.SecretStore))) as List as never,
      logger,
    }),
    css: createResilientInformer({
      kc: kube.kc,
      name: 'worker-clustersecretstores',
      path: path(PLURALS.ClusterSecretStore),
      list: async () => (await kube.custom.listClusterCustomObject(custom(PLURALS.ClusterSecretStore))) as List as never,
      logger,
    }),
    secrets: createResilientInformer({
      kc: kube.kc,
      name: 'worker-managed-secrets',
      path: '/api/v1/secrets',
      labelSelector: `${MANAGED_LABEL}=true`,
      list: async () => (await kube.core.listSecretForAllNamespaces({ labelSelector: `${MANAGED_LABEL}=true` })) as never,
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
