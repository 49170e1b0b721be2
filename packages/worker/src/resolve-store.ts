// Which store an ExternalSecret may use: a SecretStore only in its own namespace, a
// ClusterSecretStore from any namespace its conditions allow. Violations are terminal.
import {
  EXTERNAL_SECRETS_GROUP,
  EXTERNAL_SECRETS_VERSION,
  isNotFound,
  parseSecretStore,
  PLURALS,
  Reasons,
  terminal,
  type ExternalSecret,
  type KubeClients,
  type SecretStore,
  type StoreKind,
} from '@herdless/core';
import type { WorkerCaches } from './worker-caches.js';

export interface ResolvedStore {
  store: SecretStore;
  kind: StoreKind;
}

export async function resolveStore(kube: KubeClients, es: ExternalSecret, caches?: WorkerCaches): Promise<ResolvedStore> {
  const ref = es.spec.secretStoreRef;
  const namespace = es.metadata.namespace as string;
  if (!ref) throw terminal(Reasons.InvalidSpec, 'spec.secretStoreRef: expected a store reference, found none');
  if (ref.kind === 'ClusterSecretStore') {
    const store = await getStore(kube, caches, 'ClusterSecretStore', ref.name);
    if (!store) throw terminal(Reasons.SecretStoreNotFound, `ClusterSecretStore "${ref.name}" not found`);
    await checkClusterStoreAllows(kube, store, namespace);
    return { store, kind: 'ClusterSecretStore' };
  }
  const store = await getStore(kube, caches, 'SecretStore', ref.name, namespace);
  if (store) return { store, kind: 'SecretStore' };
  const elsewhere = await findStoreElsewhere(kube, ref.name, namespace);
  if (elsewhere) {
    throw terminal(
      Reasons.SecretStoreNotAllowed,
      `SecretStore "${ref.name}" exists in namespace "${elsewhere}", but a SecretStore serves only its own namespace ("${namespace}"); use a ClusterSecretStore to share a store`,
    );
  }
  throw terminal(Reasons.SecretStoreNotFound, `SecretStore "${ref.name}" not found in namespace "${namespace}"`);
}

/** Each cached store parsed once: the informer holds a new object for every change, so this never serves an old version. */
const parsedStores = new WeakMap<object, SecretStore>();

/** From the cache when there, else a direct read (a store created a moment ago may not be cached yet). */
async function getStore(kube: KubeClients, caches: WorkerCaches | undefined, kind: StoreKind, name: string, namespace?: string): Promise<SecretStore | undefined> {
  const cached = caches?.store(kind, name, namespace);
  if (cached) {
    let parsed = parsedStores.get(cached);
    if (!parsed) parsedStores.set(cached, (parsed = parseSecretStore(cached)));
    return parsed;
  }
  const base = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS[kind], name };
  try {
    const obj = namespace
      ? await kube.custom.getNamespacedCustomObject({ ...base, namespace })
      : await kube.custom.getClusterCustomObject(base);
    const parsed = parseSecretStore(obj);
    return parsed;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function findStoreElsewhere(kube: KubeClients, name: string, namespace: string): Promise<string | undefined> {
  try {
    const list = (await kube.custom.listClusterCustomObject({
      group: EXTERNAL_SECRETS_GROUP,
      version: EXTERNAL_SECRETS_VERSION,
      plural: PLURALS.SecretStore,
      fieldSelector: `metadata.name=${name}`,
    })) as { items?: Array<{ metadata?: { namespace?: string } }> };
    return list.items?.map((i) => i.metadata?.namespace).find((ns) => ns && ns !== namespace);
  } catch {
    // Without list permission the plain "not found" below is still a correct answer.
    return undefined;
  }
}

async function checkClusterStoreAllows(kube: KubeClients, store: SecretStore, namespace: string): Promise<void> {
  const conditions = store.spec.conditions;
  if (!conditions || conditions.length === 0) return;
  let labels: Record<string, string> | undefined;
  for (const c of conditions) {
    if (c.namespaces?.includes(namespace)) return;
    if (c.namespaceRegexes?.some((r) => new RegExp(r).test(namespace))) return;
    if (c.namespaceSelector) {
      labels ??= (await kube.core.readNamespace({ name: namespace })).metadata?.labels ?? {};
      if (matchesSelector(c.namespaceSelector as LabelSelector, labels)) return;
    }
  }
  throw terminal(
    Reasons.SecretStoreNotAllowed,
    `ClusterSecretStore "${store.metadata.name}" does not allow namespace "${namespace}" (spec.conditions)`,
  );
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export function matchesSelector(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    const ok =
      e.operator === 'In' ? has && values.includes(value as string)
      : e.operator === 'NotIn' ? !has || !values.includes(value as string)
      : e.operator === 'Exists' ? has
      : e.operator === 'DoesNotExist' ? !has
      : false;
    if (!ok) return false;
  }
  return true;
}
