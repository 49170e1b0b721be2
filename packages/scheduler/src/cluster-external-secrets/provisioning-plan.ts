// What one ClusterExternalSecret wants, decided from plain values (ESO v0.20.4's
// clusterexternalsecret controller, step by step): the ExternalSecret name, the namespaces its
// selectors and names choose, the ExternalSecret each of them gets (spec copied verbatim, the
// CES's metadata and force-sync annotation, a controller owner reference), and the status that
// results. Pure: the API calls are reconcile-cluster-external-secret.ts's.
import {
  API_VERSION,
  labelSelectorError,
  matchesLabelSelector,
  type ClusterExternalSecretStatus,
  type LabelSelector,
} from '@herdless/core';

export const CES_KIND = 'ClusterExternalSecret';
export const FORCE_SYNC_ANNOTATION = 'external-secrets.io/force-sync';
/** ESO's messages, kept word for word: users grep for them. */
export const ALREADY_EXISTS = 'external secret already exists in namespace';
export const NAMESPACES_FAILED = 'one or more namespaces failed';

export interface RawObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    deletionTimestamp?: unknown;
    resourceVersion?: string;
  };
  spec?: unknown;
  status?: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface NamespaceView {
  name: string;
  labels: Record<string, string>;
  deleting: boolean;
}

interface CesSpec {
  externalSecretSpec?: unknown;
  externalSecretName?: string;
  externalSecretMetadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  namespaceSelector?: LabelSelector;
  namespaceSelectors?: LabelSelector[];
  namespaces?: string[];
  refreshTime?: string;
}

export function cesSpecOf(ces: RawObject): CesSpec {
  return (ces.spec ?? {}) as CesSpec;
}

export function cesStatusOf(ces: RawObject): ClusterExternalSecretStatus {
  return (ces.status ?? {}) as ClusterExternalSecretStatus;
}

/** spec.externalSecretName, else the CES's own name. */
export function externalSecretNameOf(ces: RawObject): string {
  return cesSpecOf(ces).externalSecretName || (ces.metadata?.name as string);
}

/**
 * The namespaces chosen: each named one that exists (ESO turns names into
 * kubernetes.io/metadata.name selectors), then each selector's matches (namespaceSelector first,
 * then namespaceSelectors), without repeats. An invalid selector chooses nothing and says why.
 */
export function selectNamespaces(ces: RawObject, namespaces: readonly NamespaceView[]): { chosen: NamespaceView[] } | { error: string } {
  const spec = cesSpecOf(ces);
  const selectors: LabelSelector[] = [
    ...(spec.namespaces ?? []).map((name) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } })),
    ...(spec.namespaceSelector ? [spec.namespaceSelector] : []),
    ...(spec.namespaceSelectors ?? []),
  ];
  const chosen = new Map<string, NamespaceView>();
  for (const selector of selectors) {
    const error = labelSelectorError(selector);
    if (error) return { error: `failed to convert label selector ${JSON.stringify(selector)}: ${error}` };
    // A namespace's name label is set by the API server; match the name too for namespaces listed before it was.
    const labels = (ns: NamespaceView) => ({ 'kubernetes.io/metadata.name': ns.name, ...ns.labels });
    for (const ns of namespaces) if (!chosen.has(ns.name) && matchesLabelSelector(selector, labels(ns))) chosen.set(ns.name, ns);
  }
  return { chosen: [...chosen.values()] };
}

/** ESO's isExternalSecretOwnedBy: its controller reference names this CES (group and kind, by name). */
export function isOwnedBy(es: RawObject, cesName: string): boolean {
  const owner = es.metadata?.ownerReferences?.find((r) => r.controller === true);
  return owner !== undefined && owner.kind === CES_KIND && owner.apiVersion.split('/')[0] === API_VERSION.split('/')[0] && owner.name === cesName;
}

/**
 * The ExternalSecret a namespace gets, over what exists (ESO's CreateOrUpdate mutate): labels
 * and annotations are the CES's externalSecretMetadata (the CES's force-sync annotation added),
 * the spec is externalSecretSpec verbatim, and the controller reference is the CES's (other
 * owner references kept).
 */
export function desiredExternalSecret(ces: RawObject, namespace: string, existing?: RawObject): RawObject {
  const spec = cesSpecOf(ces);
  const name = externalSecretNameOf(ces);
  const annotations: Record<string, string> = { ...(spec.externalSecretMetadata?.annotations ?? {}) };
  const force = ces.metadata?.annotations?.[FORCE_SYNC_ANNOTATION];
  if (force !== undefined) annotations[FORCE_SYNC_ANNOTATION] = force;
  else delete annotations[FORCE_SYNC_ANNOTATION];
  const controllerRef: OwnerReference = {
    apiVersion: API_VERSION,
    kind: CES_KIND,
    name: ces.metadata?.name as string,
    uid: ces.metadata?.uid as string,
    controller: true,
    blockOwnerDeletion: true,
  };
  const others = (existing?.metadata?.ownerReferences ?? []).filter((r) => !(r.kind === CES_KIND && r.name === controllerRef.name));
  const labels = spec.externalSecretMetadata?.labels;
  return {
    apiVersion: API_VERSION,
    kind: 'ExternalSecret',
    metadata: {
      ...(existing?.metadata ?? {}),
      name,
      namespace,
      labels: labels && Object.keys(labels).length > 0 ? { ...labels } : undefined,
      annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
      ownerReferences: [...others, controllerRef],
    } as RawObject['metadata'],
    spec: spec.externalSecretSpec,
  };
}

/** Whether writing `desired` over `existing` would change what it holds (no write when not). */
export function needsWrite(existing: RawObject, desired: RawObject): boolean {
  const pick = (o: RawObject) => ({
    labels: o.metadata?.labels ?? {},
    annotations: o.metadata?.annotations ?? {},
    owners: o.metadata?.ownerReferences ?? [],
    spec: o.spec ?? {},
  });
  return canonical(pick(existing)) !== canonical(pick(desired));
}

/** JSON with object keys sorted, so two objects compare by content. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/** ESO's status: failed namespaces sorted by name with their reason, provisioned ones sorted, one Ready condition. */
export function statusOf(esName: string, provisioned: readonly string[], failed: ReadonlyMap<string, string>): ClusterExternalSecretStatus {
  const failedNamespaces = [...failed.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([namespace, reason]) => ({ namespace, reason }));
  return {
    externalSecretName: esName,
    ...(failedNamespaces.length > 0 ? { failedNamespaces } : {}),
    ...(provisioned.length > 0 ? { provisionedNamespaces: [...provisioned].sort() } : {}),
    conditions: [failed.size === 0 ? { type: 'Ready', status: 'True' } : { type: 'Ready', status: 'False', message: NAMESPACES_FAILED }],
  };
}
