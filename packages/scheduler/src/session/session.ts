// One term of leadership: adopt what the queue already holds, plan every ExternalSecret in the
// warm caches, then follow their changes until the signal aborts. It joins the informers (what
// Kubernetes says), the planner (what to do) and the dispatcher (what Redis gets). The cache is
// trusted for an ExternalSecret the queue holds nothing for only once it holds the API server's
// version (cacheBehindServer). Drift of a target Secret (drift.ts) goes straight to the queue as
// a drift job: it is no part of the plan.
import { setTimeout as delay } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { externalSecretSchema, secretStoreSchema, servesExternalSecretIn, uidOfJobId, type ExternalSecret, type Logger, type SecretStore, type StoreKind } from '@herdless/core';
import { Dispatcher, groupHashOf, type PauseGate } from '../queue/dispatcher.js';
import { driftJobOf, isForeignChange, restoresItsTarget } from './drift.js';
import type { SyncEnqueuer, QueuedSyncJob } from '../queue/enqueuer.js';
import type { ExternalSecretsInformers } from '../lifetime/informers.js';
import { planItemOf, storeKeyOf, storeRefOf, type PlanItem } from '../planning/plan-item.js';
import type { PlannedReason, PlannedSync } from '../planning/plan.js';
import type { Planner } from '../planning/planner.js';
import type { VersionKey } from './server-versions.js';

export interface LeaderSessionOptions {
  epoch: number;
  signal: AbortSignal;
  /** Paused while the Lease's renewal is overdue: nothing is enqueued, the plan is kept (lifetime/term-gate.ts). */
  gate?: PauseGate;
  informers: ExternalSecretsInformers;
  enqueuer: SyncEnqueuer;
  planner: Planner;
  shards: readonly string[];
  /** The operator's namespace → shard map (--namespace-shards). */
  namespaceShards?: Readonly<Record<string, string>>;
  endpoint?: string;
  logger: Logger;
  now?: () => number;
  /** How often pending jobs long past their time are checked for having vanished. */
  sweepIntervalMs?: number;
  /** Called after each planning pass (for metrics and tests). */
  onPlanned?: (planner: Planner) => void;
  /** --controller-class: ExternalSecrets whose stores name another class are not planned (core's controller-class.ts). */
  controllerClass?: string;
  /** Sharded planning: the ExternalSecrets this session plans (its plan shard's); unset: all. */
  plans?: (namespace: string, name: string) => boolean;
  /** Sharded planning: the plan shard this session plans; its term is published for that shard and its jobs carry it (core's supersededByTerm). */
  planShard?: number;
  /**
   * uid → resourceVersion of the ExternalSecrets `wanted` (at least; one the server lacks is
   * absent), read from the API server (server-versions.ts). Read after the queue scan, and by the
   * sweep before it re-plans a job it finds gone; without it both trust the cache as it is.
   */
  serverVersions?: (wanted: readonly VersionKey[]) => Promise<ReadonlyMap<string, string>>;
  /**
   * The queue's pending jobs for the first planning pass (a plan shard's term reads them beside
   * its shard's list: `SyncEnqueuer.pendingJobs`); read here, after the caches, when absent.
   */
  pendingJobs?: () => Promise<QueuedSyncJob[]>;
  /**
   * Sharded planning: called once the first pass is planned with a function that places anew the
   * items `affected` picks (this shard's share of their budget moved); returns a detach.
   */
  attachReplanner?: (replan: (affected: (item: PlanItem) => boolean) => void) => () => void;
}

/**
 * The shard an ExternalSecret's jobs go to: its namespace's in the operator's map, else the
 * first. Never the ExternalSecret's own choice: a shard pins a worker pool (its credentials,
 * its nodes), and a tenant must not move its jobs into another tenant's pool.
 */
export function shardOf(es: ExternalSecret, shards: readonly string[], namespaceShards: Readonly<Record<string, string>> = {}): string {
  const wanted = namespaceShards[es.metadata.namespace ?? ''];
  return wanted && shards.includes(wanted) ? wanted : (shards[0] as string);
}

/** A queued job the planner adopts: any but a drift job, which is no part of the plan. */
export type PlannedQueuedJob = QueuedSyncJob & { data: { reason: PlannedReason } };
/**
 * Tries of the first pass's read of versions before it plans from the cache as it is (each of
 * its requests already tried again on a 5xx), VERSIONS_RETRY_MS apart and then twice that. The
 * cache a restarted term keeps may lag behind the jobs that completed meanwhile: planned from it,
 * they sync again (under 10 % 500s one versions read of 100 failed in every run of the API
 * server faults chaos test; one CI run of it read 117 values for 100).
 */
export const FIRST_PASS_VERSION_READS = 3;
/** The longest slice of a budget move's placing between two turns of the event loop. */
export const REPLAN_SLICE_MS = 25;
const VERSIONS_RETRY_MS = 1_000;

export const isPlannedJob = (job: QueuedSyncJob): job is PlannedQueuedJob => job.data.reason !== 'drift';

export function plannedSyncOf(job: PlannedQueuedJob): PlannedSync {
  const p: PlannedSync = {
    id: job.id,
    uid: job.data.uid,
    namespace: job.data.namespace,
    name: job.data.name,
    generation: job.data.generation,
    reason: job.data.reason,
    plannedAt: job.data.plannedAt,
    providerKey: job.data.providerKey,
    shard: job.shard,
    cost: 1,
  };
  if (job.data.deadline !== undefined) p.deadline = job.data.deadline;
  return p;
}

export async function runLeaderSession(opts: LeaderSessionOptions): Promise<void> {
  const { informers, planner, signal, logger } = opts;
  const now = opts.now ?? Date.now;
  // Refreshes of a shared remote key go as group jobs (dispatcher.ts), one worker for a group's instant.
  const groupOf = (job: PlannedSync): string | undefined => {
    const group = planner.placement.sharedGroupOf?.(job.uid);
    return group === undefined ? undefined : groupHashOf(group);
  };
  const dispatcher = new Dispatcher({ enqueuer: opts.enqueuer, epoch: opts.epoch, ...(opts.planShard === undefined ? {} : { planShard: opts.planShard }), signal, ...(opts.gate ? { gate: opts.gate } : {}), logger, now, groupOf });
  const dirty = new Map<string, { namespace: string; name: string }>();
  const deleted = new Set<string>();
  let flushTimer: NodeJS.Timeout | undefined;
  let live = false;
  let drifts = 0;

  const scheduleFlush = (): void => {
    if (!live || flushTimer || signal.aborted) return;
    flushTimer = setTimeout(flush, 10);
  };
  const markDirty = (obj: KubernetesObject): void => {
    const uid = obj.metadata?.uid;
    if (!uid || !obj.metadata?.name) return;
    dirty.set(uid, { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name });
    scheduleFlush();
  };
  const onEsChange = (obj: KubernetesObject): void => markDirty(obj);
  const onEsDelete = (obj: KubernetesObject): void => {
    const uid = obj.metadata?.uid;
    if (!uid) return;
    dirty.delete(uid);
    deleted.add(uid);
    scheduleFlush();
  };
  const onStoreChange = (kind: StoreKind) => (obj: KubernetesObject): void => {
    const parsed = secretStoreSchema.safeParse(obj);
    if (!parsed.success) return;
    const key = storeKeyOf(parsed.data, kind);
    for (const es of informers.externalSecrets.list()) {
      const p = externalSecretSchema.safeParse(es);
      if (p.success && storeRefOf(p.data).key === key) markDirty(es);
    }
  };
  /** A managed Secret changed: drift jobs for the ExternalSecrets that restore it, unless the change is theirs. */
  const onSecretChange = (event: 'add' | 'update' | 'delete', secret: KubernetesObject, old?: KubernetesObject): void => {
    // Paused: no drift job (its target is restored at its next sync), as nothing else is enqueued.
    if (signal.aborted || opts.gate?.paused || !isForeignChange(event, secret, old)) return;
    for (const obj of informers.writersOf(secret.metadata?.namespace ?? '', secret.metadata?.name ?? '')) {
      const parsed = externalSecretSchema.safeParse(obj);
      if (!parsed.success || !restoresItsTarget(parsed.data)) continue;
      const item = itemOf(obj);
      if (!item) continue;
      const { id, job, shard } = driftJobOf(item, secret, opts.epoch, now());
      drifts++;
      opts.enqueuer.enqueue(job, id, shard, now()).catch((e: unknown) => {
        logger.warn({ err: (e as Error).message, namespace: job.namespace, name: job.name }, 'could not enqueue a drift job; the target is restored at its next sync');
      });
    }
  };
  const onSecretStore = onStoreChange('SecretStore');
  const onClusterSecretStore = onStoreChange('ClusterSecretStore');

  /** Not this controller's (its stores name another class): never planned, forgotten if it was. */
  const isForeign = (obj: KubernetesObject): boolean =>
    opts.controllerClass !== undefined && !servesExternalSecretIn((obj as { spec?: unknown }).spec, obj.metadata?.namespace, opts.controllerClass, informers);

  /** In this session's plan shard (every ExternalSecret when the plan is not sharded). */
  const inShard = (namespace: string, name: string): boolean => !opts.plans || opts.plans(namespace, name);
  const itemOf = (obj: KubernetesObject): PlanItem | undefined => {
    if (isForeign(obj) || !inShard(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '')) return undefined;
    const parsed = externalSecretSchema.safeParse(obj);
    if (!parsed.success) {
      logger.warn({ namespace: obj.metadata?.namespace, name: obj.metadata?.name, issue: parsed.error.issues[0]?.message }, 'skipping an ExternalSecret that does not parse');
      return undefined;
    }
    const es = parsed.data;
    const ref = storeRefOf(es);
    const rawStore = ref.kind === 'ClusterSecretStore' ? informers.clusterSecretStores.get(ref.name) : informers.secretStores.get(ref.name, ref.namespace);
    const store = rawStore ? secretStoreSchema.safeParse(rawStore) : undefined;
    const ctx: Parameters<typeof planItemOf>[1] = { shard: shardOf(es, opts.shards, opts.namespaceShards) };
    if (store?.success) ctx.store = store.data as SecretStore;
    if (opts.endpoint) ctx.endpoint = opts.endpoint;
    const observed = readyObservedGeneration(obj);
    if (observed !== undefined) ctx.readyObservedGeneration = observed;
    return planItemOf(es, ctx);
  };

  /**
   * The items the queue holds no job for whose cached version is not the API server's now. A job
   * that completed after the informers' sync but before the queue scan reached it is on neither
   * side: gone from the queue, and its status write possibly not yet in the cache, so its
   * ExternalSecret looks unsynced and would be planned (and enqueued) a second time. Read after
   * the scan, the server's versions include every status written before a job left the queue
   * (the worker writes the status, then completes the job). Such an item is left out of the
   * first pass: the informer's event for the newer version is still to come (or came after the
   * subscription above), and it marks the item dirty. The sweep asks the same of jobs it finds
   * gone. Undefined when the versions could not be read in `attempts` tries (each request was
   * tried again on a 5xx already): the caller decides. The first pass tries
   * FIRST_PASS_VERSION_READS times, then plans from the cache as it is (it must plan); the sweep
   * tries once, and asks again at its next round.
   */
  async function cacheBehindServer(unqueued: readonly CachedVersion[], meanwhile: string, attempts = 1): Promise<Set<string> | undefined> {
    if (!opts.serverVersions || unqueued.length === 0) return new Set();
    for (let attempt = 1; ; attempt++) {
      try {
        const versions = await opts.serverVersions(unqueued);
        return new Set(unqueued.filter((c) => versions.get(c.uid) !== c.resourceVersion).map((c) => c.uid));
      } catch (e) {
        const last = attempt >= attempts || signal.aborted;
        logger.warn({ err: (e as Error).message, externalSecrets: unqueued.length, attempt }, `could not read the ExternalSecrets' versions from the API server; ${last ? meanwhile : 'reading them again'}`);
        if (last) return undefined;
        await delay(VERSIONS_RETRY_MS * attempt, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /**
   * A budget move places the shard's jobs anew in slices of at most REPLAN_SLICE_MS of work, the
   * event loop free between them (Lease renewals, the informers, Redis); a move asked for during
   * one is done after it, with every move asked for meanwhile in one. Passes run meanwhile (a new
   * spec is not held behind a move of 25,000 refreshes); only the items the move has yet to place
   * wait for its end (flush leaves them dirty; the end schedules a flush).
   */
  const replanPicks: Array<(item: PlanItem) => boolean> = [];
  let replanning: Promise<void> | undefined;
  async function replan(): Promise<void> {
    while (replanPicks.length > 0 && !signal.aborted) {
      const picks = replanPicks.splice(0);
      let sliceFrom = Date.now();
      for (const changes of planner.replaceWhereSteps((item) => picks.some((pick) => pick(item)), now)) {
        for (const change of changes) dispatcher.submit(change);
        if (Date.now() - sliceFrom < REPLAN_SLICE_MS) continue;
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (signal.aborted) return;
        sliceFrom = Date.now();
      }
      opts.onPlanned?.(planner);
    }
  }

  function flush(): void {
    flushTimer = undefined;
    if (signal.aborted) return;
    const t = now();
    // An item a budget move has released and not yet placed anew waits for it (replan's end
    // schedules a flush): placed or forgotten now, its old job would stay beside the new one.
    for (const uid of deleted) {
      if (planner.awaitsPlacing(uid)) continue;
      dispatcher.submit(planner.forget(uid));
      deleted.delete(uid);
    }
    const batch = [...dirty.entries()].filter(([uid]) => !planner.awaitsPlacing(uid));
    for (const [uid] of batch) dirty.delete(uid);
    const items: PlanItem[] = [];
    for (const [uid, key] of batch) {
      const obj = informers.externalSecrets.get(key.name, key.namespace);
      if (!obj || obj.metadata?.uid !== uid) continue;
      if (isForeign(obj)) {
        dispatcher.submit(planner.forget(uid));
        continue;
      }
      const item = itemOf(obj);
      if (item) items.push(item);
    }
    for (const change of planner.observeAll(items, t)) dispatcher.submit(change);
    // Re-spread refreshes a backlog outlasted move behind it (at most once a second).
    for (const change of planner.rebalance(t)) dispatcher.submit(change);
    opts.onPlanned?.(planner);
  }

  const unsubscribe = informers.subscribe((kind, event, obj, old) => {
    if (kind === 'Secret') onSecretChange(event, obj, old);
    else if (kind === 'SecretStore') onSecretStore(obj);
    else if (kind === 'ClusterSecretStore') onClusterSecretStore(obj);
    else if (event === 'delete') onEsDelete(obj);
    else onEsChange(obj);
  });
  let sweepTimer: NodeJS.Timeout | undefined;
  let detachReplanner: (() => void) | undefined;
  try {
    // From now on the workers complete the stale routine jobs this term will replace without
    // running them (core's supersededByTerm). Before any planning, so that `since` is no later
    // than the time the planner judges the queue's jobs at. Without it they run as before.
    // Not awaited: planning waits for Redis anyway, and a late publish only drops fewer jobs.
    // A plan shard's owner publishes its shard's term; its jobs carry the shard.
    void opts.enqueuer.publishTerm({ epoch: opts.epoch, since: now() }, opts.planShard).catch((e: unknown) => {
      logger.warn({ err: (e as Error).message }, 'could not publish the leader term; the workers run stale routine jobs');
    });
    const t0 = Date.now();
    await Promise.race([informers.synced(), aborted(signal)]);
    if (signal.aborted) return;
    const tSynced = Date.now();
    // Rebuild from the queue first, so nothing already pending is enqueued a second time.
    // Drift jobs are not the plan's: they run as they are and are never adopted.
    const queued = (await (opts.pendingJobs ?? (() => opts.enqueuer.pendingJobs()))()).filter(isPlannedJob).filter((j) => inShard(j.data.namespace, j.data.name));
    if (signal.aborted) return;
    const tQueued = Date.now();
    let duplicates = 0;
    for (const job of queued) {
      const change = planner.adopt(plannedSyncOf(job));
      if (change) duplicates++;
      dispatcher.submit(change);
    }
    const cached: CachedItem[] = [];
    for (const obj of informers.externalSecrets.list()) {
      const item = itemOf(obj);
      if (item) cached.push({ uid: item.uid, namespace: item.namespace, name: item.name, item, resourceVersion: obj.metadata?.resourceVersion });
    }
    const adopted = new Set(queued.map((j) => j.data.uid));
    const behind = (await cacheBehindServer(cached.filter((c) => !adopted.has(c.uid)), 'planning from the cache as it is', FIRST_PASS_VERSION_READS)) ?? new Set<string>();
    if (signal.aborted) return;
    const tVersions = Date.now();
    const items = cached.filter((c) => !behind.has(c.uid)).map((c) => c.item);
    // One batch, so overdue items are released earliest deadline first behind the new specs.
    for (const change of planner.observeAll(items, now())) dispatcher.submit(change);
    const planned = items.length;
    // Jobs adopted for ExternalSecrets not in the cache: the cache may lag behind the queue, so
    // they are removed only if still unknown at the first sweep (the worker drops a job whose
    // ExternalSecret is gone anyway).
    let orphanCandidates = new Set(queued.map((j) => j.data.uid).filter((uid) => !planner.itemOf(uid)));
    opts.onPlanned?.(planner);
    // Where a term's start goes (a takeover at size): the caches, the queue's snapshot, the API server's versions, the first plan.
    const ms = { syncedMs: tSynced - t0, queueMs: tQueued - tSynced, versionsMs: tVersions - tQueued, planMs: Date.now() - tVersions };
    logger.info({ epoch: opts.epoch, adopted: queued.length, duplicates, externalSecrets: planned, awaitingInformer: behind.size, ...ms }, 'planned from the caches and the queue');
    live = true;
    scheduleFlush();
    detachReplanner = opts.attachReplanner?.((affected) => {
      if (signal.aborted) return;
      replanPicks.push(affected);
      replanning ??= replan().finally(() => {
        replanning = undefined;
        // The changes the informers brought meanwhile.
        scheduleFlush();
      });
    });

    // Backstop for jobs that left the queue without a status change (a worker lost mid-job):
    // after their time has long passed, look them up and plan again if they are gone.
    const sweepMs = opts.sweepIntervalMs ?? 30_000;
    const sweep = async (): Promise<void> => {
      const t0 = now();
      for (const uid of orphanCandidates) if (!planner.itemOf(uid)) dispatcher.submit(planner.forget(uid));
      orphanCandidates = new Set();
      let checked = 0;
      const gone: PlannedSync[] = [];
      for (const job of [...planner.plannedJobs()]) {
        if (signal.aborted || checked >= 500) break;
        if (job.plannedAt > t0 - sweepMs * 2 || dispatcher.has(job.uid)) continue;
        checked++;
        const state = await opts.enqueuer.stateOf(job.id, job.shard).catch(() => 'error');
        if (state === 'unknown' || state === 'completed' || state === 'failed') gone.push(job);
      }
      // A job that just completed is gone too, its status possibly not yet in the cache: the
      // same race as at adoption. Its informer event replaces the job; only the others are lost.
      // Versions unreadable: none is taken for lost (a completed one planned from a cache that
      // lags would sync again); they stay planned, and the next sweep asks again.
      const behind = await cacheBehindServer(gone.map((job) => ({ uid: job.uid, namespace: job.namespace, name: job.name, resourceVersion: informers.externalSecrets.get(job.name, job.namespace)?.metadata?.resourceVersion })), 'the jobs found gone stay planned until the next sweep');
      if (signal.aborted || behind === undefined) return;
      for (const job of gone) {
        if (behind.has(job.uid)) continue;
        planner.jobGone(job.uid, job.id);
        dirty.set(job.uid, { namespace: job.namespace, name: job.name });
        scheduleFlush();
      }
    };
    const runSweep = (): void => {
      sweepTimer = setTimeout(() => void sweep().finally(() => !signal.aborted && runSweep()), sweepMs);
    };
    runSweep();
    await aborted(signal);
  } finally {
    live = false;
    detachReplanner?.();
    if (flushTimer) clearTimeout(flushTimer);
    if (sweepTimer) clearTimeout(sweepTimer);
    unsubscribe();
    // In-flight queue calls finish (their ids are deterministic); nothing new starts.
    await dispatcher.idle();
    logger.info({ epoch: opts.epoch, ...dispatcher.counts, drifts }, 'leader session ended');
  }
}

/** An ExternalSecret and the version the cache holds of it (undefined: not in the cache). */
interface CachedVersion extends VersionKey {
  resourceVersion: string | undefined;
}

/** An ExternalSecret in the cache, planned. */
interface CachedItem extends CachedVersion {
  item: PlanItem;
}

function readyObservedGeneration(obj: KubernetesObject): number | undefined {
  const conditions = (obj as { status?: { conditions?: Array<{ type?: string; observedGeneration?: unknown }> } }).status?.conditions;
  const g = conditions?.find((c) => c.type === 'Ready')?.observedGeneration;
  return typeof g === 'number' ? g : undefined;
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export { uidOfJobId };
