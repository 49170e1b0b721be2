// Which store an ExternalSecret may use: a SecretStore only in its own namespace, a
// ClusterSecretStore from any namespace its conditions allow (ESO's semantics, RE2 regexes).
// Violations are terminal, and no message names anything outside the ExternalSecret's namespace.
import {
  compileUserRegex,
  EXTERNAL_SECRETS_GROUP,
  EXTERNAL_SECRETS_VERSION,
  isNotFound,
  matchesLabelSelector,
  PLURALS,
  Reasons,
  secretStoreSchema,
  terminal,
  type ExternalSecret,
  type KubeClients,
  type LabelSelector,
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
    await checkClusterStoreAllows(kube, caches, store, namespace);
    return { store, kind: 'ClusterSecretStore' };
  }
  const store = await getStore(kube, caches, 'SecretStore', ref.name, namespace);
  if (store) return { store, kind: 'SecretStore' };
  // Whether other namespaces hold a store of that name is theirs to know, not this tenant's.
  throw terminal(
    Reasons.SecretStoreNotFound,
    `SecretStore "${ref.name}" not found in namespace "${namespace}"; a SecretStore serves only its own namespace (a ClusterSecretStore is shared)`,
  );
}

/** Each cached store parsed once: the informer holds a new object for every change, so this never serves an old version. */
const parsedStores = new WeakMap<object, SecretStore>();

/** A store that fails its schema is the store author's to fix: terminal, with the field named. */
function parseStore(obj: unknown, kind: StoreKind, name: string): SecretStore {
  const parsed = secretStoreSchema.safeParse(obj);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(the object)';
  throw terminal(Reasons.InvalidStoreSpec, `${kind} "${name}" fails its schema at ${field}: ${issue?.message ?? 'invalid'}`);
}

/** From the cache when there, else a direct read (a store created a moment ago may not be cached yet). */
async function getStore(kube: KubeClients, caches: WorkerCaches | undefined, kind: StoreKind, name: string, namespace?: string): Promise<SecretStore | undefined> {
  const cached = caches?.store(kind, name, namespace);
  if (cached) {
    let parsed = parsedStores.get(cached);
    if (!parsed) parsedStores.set(cached, (parsed = parseStore(cached, kind, name)));
    return parsed;
  }
  const base = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS[kind], name };
  try {
    const obj = namespace
      ? await kube.custom.getNamespacedCustomObject({ ...base, namespace })
      : await kube.custom.getClusterCustomObject(base);
    return parseStore(obj, kind, name);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function checkClusterStoreAllows(kube: KubeClients, caches: WorkerCaches | undefined, store: SecretStore, namespace: string): Promise<void> {
  const conditions = store.spec.conditions;
  if (!conditions || conditions.length === 0) return;
  // Every pattern first: a store with one pattern RE2 rejects is invalid whichever condition matches.
  const regexes = conditions.map((c, i) =>
    (c.namespaceRegexes ?? []).map((r, j) =>
      compileUserRegex(r, `ClusterSecretStore "${store.metadata.name}" spec.conditions[${i}].namespaceRegexes[${j}]`, Reasons.InvalidStoreSpec),
    ),
  );
  let labels: Record<string, string> | undefined;
  for (const [i, c] of conditions.entries()) {
    if (c.namespaces?.includes(namespace)) return;
    // ESO: regexp.MatchString(re, namespace), an unanchored search.
    if (regexes[i]?.some((re) => re.test(namespace))) return;
    if (c.namespaceSelector) {
      labels ??= await namespaceLabels(kube, caches, namespace);
      if (matchesLabelSelector(c.namespaceSelector as LabelSelector, labels)) return;
    }
  }
  throw terminal(
    Reasons.SecretStoreNotAllowed,
    `ClusterSecretStore "${store.metadata.name}" does not allow namespace "${namespace}" (spec.conditions)`,
  );
}

/** From the Namespace cache, else a direct read (a namespace created a moment ago may not be cached yet). */
async function namespaceLabels(kube: KubeClients, caches: WorkerCaches | undefined, namespace: string): Promise<Record<string, string>> {
  return caches?.namespaceLabels(namespace) ?? (await kube.core.readNamespace({ name: namespace })).metadata?.labels ?? {};
}

/** Kept for this module's callers and tests: the rule lives in core. */
export const matchesSelector = matchesLabelSelector;
