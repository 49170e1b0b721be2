// What the planner knows about one ExternalSecret, as plain values: read from the object,
// its store and the status the worker wrote (Kubernetes is the database). Pure: no I/O.
import {
  PARAMETER_STORE_READ_BUCKET,
  lastSyncMs,
  parseGoDuration,
  providerIdentityOf,
  providerKeyString,
  readyConditionOf,
  type ExternalSecret,
  type RemoteRef,
  type SecretStore,
  type StoreKind,
} from '@herdless/core';
import { readGroupsOf } from './placement/shared-keys.js';

/** How an ExternalSecret wants to be refreshed, from refreshPolicy and refreshInterval. */
export type RefreshMode =
  | { policy: 'periodic'; intervalMs: number }
  /** refreshInterval "0" or refreshPolicy OnChange: only a spec change syncs. */
  | { policy: 'on-change' }
  /** refreshPolicy CreatedOnce: one successful sync, then never again. */
  | { policy: 'created-once' }
  /** An unparsable refreshInterval: one sync (the worker sets InvalidRefreshInterval), never periodic. */
  | { policy: 'invalid' };

export interface OperationCalls {
  operation: string;
  calls: number;
}

export interface ReadyState {
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  /** The generation the condition was computed for, when the writer records it. */
  observedGeneration?: number;
}

export interface PlanItem {
  uid: string;
  namespace: string;
  name: string;
  generation: number;
  shard: string;
  /** The upstream quota this item's calls are charged to. */
  providerKey: string;
  /** The provider type ("aws-sm", "aws-ps", …) whose default budget applies. */
  providerType: string;
  /** Provider calls one sync costs, in total. */
  cost: number;
  /** The same calls by operation: budgets are per operation, as AWS's quotas are. */
  calls: OperationCalls[];
  refresh: RefreshMode;
  /** The generation the last successful sync rendered (status.syncedResourceVersion). */
  syncedGeneration?: number;
  /** status.refreshTime in epoch ms. */
  lastSyncMs?: number;
  /** status.lastAttemptTime in epoch ms (Herdless's worker writes it on every attempt). */
  lastAttemptMs?: number;
  /** status.failedAttempts: failures since the last success. */
  failedAttempts?: number;
  ready?: ReadyState;
  /** When the Ready condition last turned True (its lastTransitionTime, epoch ms), while it is True. */
  readySinceMs?: number;
  /** "Kind/namespace/name" of the referenced store. */
  storeRef: string;
  /** resourceVersion of the referenced store; absent when the store does not exist. */
  storeVersion?: string;
  /** The remote keys it reads through its store, as read groups (placement/shared-keys.ts). */
  readGroups?: string[];
}

export function refreshModeOf(es: ExternalSecret): RefreshMode {
  if (es.spec.refreshPolicy === 'CreatedOnce') return { policy: 'created-once' };
  if (es.spec.refreshPolicy === 'OnChange') return { policy: 'on-change' };
  let ms: number;
  try {
    ms = parseGoDuration(es.spec.refreshInterval);
  } catch {
    return { policy: 'invalid' };
  }
  if (ms < 0 || !Number.isFinite(ms)) return { policy: 'invalid' };
  if (ms === 0) return { policy: 'on-change' };
  // A sub-second interval cannot be honoured by a one-second calendar; treat it as one second.
  return { policy: 'periodic', intervalMs: Math.max(1000, ms) };
}

export function storeRefOf(es: ExternalSecret): { kind: StoreKind; namespace: string; name: string; key: string } {
  const ref = es.spec.secretStoreRef;
  const kind: StoreKind = ref?.kind ?? 'SecretStore';
  const name = ref?.name ?? '';
  const namespace = kind === 'ClusterSecretStore' ? '' : (es.metadata.namespace ?? '');
  return { kind, namespace, name, key: `${kind}/${namespace}/${name}` };
}

export function storeKeyOf(store: SecretStore, kind: StoreKind): string {
  return `${kind}/${kind === 'ClusterSecretStore' ? '' : (store.metadata.namespace ?? '')}/${store.metadata.name ?? ''}`;
}

/**
 * Provider calls one sync costs, by operation, after coalescing (one call per distinct remote
 * key) — an estimate, as a find's page count is unknown until it runs. A metadataPolicy Fetch
 * read is a call of its own operation (DescribeSecret, which takes no version; ListTagsForResource).
 */
export function syncCallsOf(es: ExternalSecret, providerType: string): OperationCalls[] {
  const keys = new Set<string>();
  const tags = new Set<string>();
  const add = (ref: RemoteRef) => {
    if (ref.metadataPolicy !== 'Fetch') keys.add(`${ref.key}@${ref.version ?? ''}`);
    else tags.add(providerType === 'aws-sm' ? ref.key : `${ref.key}@${ref.version ?? ''}`);
  };
  for (const d of es.spec.data ?? []) add(d.remoteRef);
  let finds = 0;
  for (const f of es.spec.dataFrom ?? []) {
    if (f.extract) add(f.extract);
    else if (f.find) finds++;
  }
  const valuesAtLeastOne = keys.size > 0 || (finds === 0 && tags.size === 0);
  if (providerType === 'aws-ps') {
    const calls: OperationCalls[] = [];
    if (valuesAtLeastOne || finds > 0) calls.push({ operation: PARAMETER_STORE_READ_BUCKET, calls: Math.max(1, keys.size + finds) });
    if (tags.size > 0) calls.push({ operation: 'ListTagsForResource', calls: tags.size });
    return calls;
  }
  if (providerType === 'aws-sm') {
    const calls: OperationCalls[] = [];
    if (valuesAtLeastOne) calls.push({ operation: 'GetSecretValue', calls: Math.max(1, keys.size) });
    if (finds > 0) calls.push({ operation: 'BatchGetSecretValue', calls: finds });
    if (tags.size > 0) calls.push({ operation: 'DescribeSecret', calls: tags.size });
    return calls;
  }
  return [{ operation: 'calls', calls: Math.max(1, keys.size + tags.size + finds) }];
}

/** Provider calls per sync, in total. */
export function syncCostOf(es: ExternalSecret, providerType = 'aws-sm'): number {
  return syncCallsOf(es, providerType).reduce((s, c) => s + c.calls, 0);
}

export interface PlanItemContext {
  /** The resolved store, if it exists. */
  store?: SecretStore;
  shard: string;
  /** AWS endpoint override: part of the provider key, as the worker computes it. */
  endpoint?: string;
  /** observedGeneration of the Ready condition, read from the raw object (not in ESO's schema). */
  readyObservedGeneration?: number;
}

export function planItemOf(es: ExternalSecret, ctx: PlanItemContext): PlanItem {
  const ref = storeRefOf(es);
  const ready = readyConditionOf(es);
  const synced = es.status?.syncedResourceVersion;
  const syncedGeneration = synced !== undefined && /^\d+$/.test(synced) ? Number(synced) : undefined;
  const lastAttempt = es.status?.lastAttemptTime ? Date.parse(es.status.lastAttemptTime) : NaN;
  const identity = ctx.store ? providerIdentityOf(ctx.store, ref.kind, ctx.endpoint) : undefined;
  const item: PlanItem = {
    uid: es.metadata.uid ?? '',
    namespace: es.metadata.namespace ?? '',
    name: es.metadata.name ?? '',
    generation: es.metadata.generation ?? 0,
    shard: ctx.shard,
    providerKey: identity ? providerKeyString(identity) : `unresolved|${ref.key}`,
    providerType: identity?.type ?? 'unresolved',
    cost: 0,
    calls: [],
    refresh: refreshModeOf(es),
    storeRef: ref.key,
  };
  item.calls = syncCallsOf(es, item.providerType);
  item.cost = item.calls.reduce((sum, c) => sum + c.calls, 0);
  const groups = readGroupsOf(es, ref.key);
  if (groups.length > 0) item.readGroups = groups;
  if (syncedGeneration !== undefined) item.syncedGeneration = syncedGeneration;
  const last = lastSyncMs(es);
  if (last !== undefined) item.lastSyncMs = last;
  if (!Number.isNaN(lastAttempt)) item.lastAttemptMs = lastAttempt;
  if (es.status?.failedAttempts !== undefined) item.failedAttempts = es.status.failedAttempts;
  if (ready) {
    item.ready = { status: ready.status };
    if (ready.reason !== undefined) item.ready.reason = ready.reason;
    if (ctx.readyObservedGeneration !== undefined) item.ready.observedGeneration = ctx.readyObservedGeneration;
    const since = ready.status === 'True' && ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
    if (!Number.isNaN(since)) item.readySinceMs = since;
  }
  if (ctx.store?.metadata.resourceVersion !== undefined) item.storeVersion = ctx.store.metadata.resourceVersion;
  return item;
}
