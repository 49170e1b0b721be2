// Warm caches of the three external-secrets.io/v1 resources, across all namespaces or, with
// watchNamespace, ExternalSecrets and SecretStores of that one (ClusterSecretStores are
// cluster-scoped), and of the metadata of the Secrets Herdless manages (label
// reconcile.external-secrets.io/managed=true; metadata only, so no Secret's data ever reaches
// the scheduler), with the ExternalSecrets indexed by the Secret they write. Every replica runs
// them (a standby that takes over plans from memory at once); only the leader acts on their
// events. With plan shards (--plan-shards above 1) a replica keeps only the ExternalSecrets of
// the shards it holds (hold/release), and of the others only their keys: its memory divides
// with the replicas. Read-only: nothing here writes to the API server.
import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { MANAGED_LABEL, PLURALS, createExternalSecretsInformer, createMetadataInformer, type Logger, type ResilientInformer } from '@herdless/core';
import { CES_KIND } from '../cluster-external-secrets/provisioning-plan.js';
import { secretIdentityOf } from '../session/drift.js';
import { planShardOf } from '../sharding/plan-shard.js';
import { TargetIndex } from './target-index.js';

export type ResourceKind = 'ExternalSecret' | 'SecretStore' | 'ClusterSecretStore' | 'Secret';
export type ResourceEvent = 'add' | 'update' | 'delete';
/** `old`: for an update, the object it replaces. Secrets carry only their identity and data-hash annotation. */
export type ResourceListener = (kind: ResourceKind, event: ResourceEvent, obj: KubernetesObject, old?: KubernetesObject) => void;

export interface ExternalSecretsInformers {
  externalSecrets: ResilientInformer<KubernetesObject>;
  secretStores: ResilientInformer<KubernetesObject>;
  clusterSecretStores: ResilientInformer<KubernetesObject>;
  /** The managed Secrets' metadata (see drift.ts's secretIdentityOf for what is kept). */
  managedSecrets: ResilientInformer<KubernetesObject>;
  /** The ExternalSecrets whose target is this Secret. */
  writersOf(namespace: string, secretName: string): KubernetesObject[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Resolves once the three external-secrets.io informers have delivered their first list.
   * Planning waits for them, not for the managed Secrets: without those (a chart without the
   * Secrets rule), drift goes unseen until the next refresh but nothing else stops.
   */
  synced(): Promise<void>;
  /** Listens to every change of the four resources; returns the unsubscribe function. */
  subscribe(listener: ResourceListener): () => void;
  /**
   * Plan shards: starts keeping shard `shard`'s ExternalSecrets; resolves once the cache holds
   * them (a paged list, the watch goes on). Without plan shards every ExternalSecret is kept.
   */
  hold(shard: number): Promise<void>;
  /** Plan shards: drops shard `shard`'s ExternalSecrets from the cache (a delete event each). */
  release(shard: number): Promise<void>;
  /** Whether this ExternalSecret's plan shard is held here (always, without plan shards). */
  holds(namespace: string, name: string): boolean;
  /**
   * The ExternalSecret as far as this replica knows the whole fleet: the cached object, or for
   * one of a shard held elsewhere a stub with its name only (it exists, owned by nobody known).
   * For decisions that span shards (ClusterExternalSecrets' "already exists").
   */
  fleetExternalSecret(namespace: string, name: string): KubernetesObject | undefined;
}

export interface InformerOptions {
  /** --plan-shards: above 1, the ExternalSecrets cache keeps only the held shards' objects. */
  planShards?: number;
  /**
   * The plan shard whose holder provisions ClusterExternalSecrets: while it is held, the
   * ExternalSecrets those control are kept whatever their shard (the controller reads and
   * updates them). Default 0.
   */
  clusterExternalSecretsShard?: number;
}

/** Controlled by a ClusterExternalSecret (its provisioning reads and rewrites it). */
const controlledByCes = (obj: KubernetesObject): boolean => obj.metadata?.ownerReferences?.some((r) => r.controller === true && r.kind === CES_KIND) === true;

export function createExternalSecretsInformers(kc: KubeConfig, logger: Logger, watchNamespace?: string, options: InformerOptions = {}): ExternalSecretsInformers {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const make = (plural: string, namespace: string | undefined, keep?: (obj: KubernetesObject) => boolean): ResilientInformer<KubernetesObject> =>
    createExternalSecretsInformer({ kc, custom, name: plural, plural, namespace, logger, ...(keep ? { keep } : {}) });
  const planShards = options.planShards ?? 1;
  const cesShard = options.clusterExternalSecretsShard ?? 0;
  /** Held shard → terms holding it (a term handed back may end after the next one began). */
  const held = new Map<number, number>();
  const holds = (namespace: string, name: string): boolean => planShards <= 1 || held.has(planShardOf(namespace, name, planShards));
  const keep =
    planShards > 1 ? (obj: KubernetesObject): boolean => holds(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '') || (held.has(cesShard) && controlledByCes(obj)) : undefined;
  const externalSecrets = make(PLURALS.ExternalSecret, watchNamespace, keep);
  const secretStores = make(PLURALS.SecretStore, watchNamespace);
  const clusterSecretStores = make(PLURALS.ClusterSecretStore, undefined);
  const managedSecrets = createMetadataInformer({
    kc,
    name: 'managed-secrets',
    path: watchNamespace ? `/api/v1/namespaces/${encodeURIComponent(watchNamespace)}/secrets` : '/api/v1/secrets',
    labelSelector: `${MANAGED_LABEL}=true`,
    transform: secretIdentityOf,
    logger,
  });
  const all = [externalSecrets, secretStores, clusterSecretStores, managedSecrets];
  const targets = new TargetIndex();
  externalSecrets.on('add', (obj) => targets.put(obj));
  externalSecrets.on('update', (obj) => targets.put(obj));
  externalSecrets.on('delete', (obj) => targets.remove(obj));
  // The informers' own listeners are registered once; sessions come and go through subscribe().
  const listeners = new Set<ResourceListener>();
  const forward = (kind: ResourceKind, informer: ResilientInformer<KubernetesObject>): void => {
    for (const event of ['add', 'update', 'delete'] as const) {
      informer.on(event, (obj: KubernetesObject, old?: KubernetesObject) => {
        for (const l of listeners) l(kind, event, obj, old);
      });
    }
  };
  forward('ExternalSecret', externalSecrets);
  forward('SecretStore', secretStores);
  forward('ClusterSecretStore', clusterSecretStores);
  forward('Secret', managedSecrets);
  return {
    externalSecrets,
    secretStores,
    clusterSecretStores,
    managedSecrets,
    writersOf: (namespace, secretName) =>
      targets.writersOf(namespace, secretName).flatMap((key) => externalSecrets.get(key.name, key.namespace) ?? []),
    // Stores first, so the first ExternalSecret events find their store in the cache.
    async start() {
      await Promise.all([secretStores.start(), clusterSecretStores.start(), managedSecrets.start()]);
      await externalSecrets.start();
    },
    async stop() {
      await Promise.all(all.map((i) => i.stop()));
    },
    async synced() {
      await Promise.all([externalSecrets, secretStores, clusterSecretStores].map((i) => i.synced()));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async hold(shard) {
      if (!keep) return;
      const terms = held.get(shard) ?? 0;
      held.set(shard, terms + 1);
      // Refilters run one at a time: a second term waits for the first one's list.
      await externalSecrets.refilter({ widened: terms === 0 });
    },
    async release(shard) {
      const terms = held.get(shard);
      if (!keep || terms === undefined) return;
      if (terms > 1) return void held.set(shard, terms - 1);
      held.delete(shard);
      await externalSecrets.refilter({ widened: false });
    },
    holds,
    fleetExternalSecret: (namespace, name) =>
      externalSecrets.get(name, namespace) ?? (externalSecrets.knows(name, namespace) ? { metadata: { namespace, name } } : undefined),
  };
}
