// Informers that do not die. @kubernetes/client-node 1.4.0's ListWatch stops for good on any
// watch error other than 410 (a 500 on the watch, a cut stream, a failed list) and never notices
// a watch that hangs. This module owns its own list-watch loop over the client's `Watch`: it
// relists after every error (with capped, fully jittered backoff), relists at once on 410 Gone,
// ends hung watches with a deadline, and counts and logs every restart. It never invents state:
// after each list the cache is exactly the list, and it only advances with events in order.
import { Watch, type CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { informerRestarts } from './metrics.js';
import { rateLimitedWatchConfig, readObject } from './kube-http.js';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, externalSecretsPath } from './resources.js';

export interface ResilientInformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** Short name for logs and metrics, e.g. "externalsecrets". */
  name: string;
  /** Collection path, e.g. `/apis/external-secrets.io/v1/externalsecrets`. */
  path: string;
  /** One page of the collection: at most `page.limit` objects, from `page.continue` when given. */
  list: (page: ListPage) => Promise<KubernetesListObject<T>>;
  /** Objects a list asks for per page (client-go's pager asks 500): a fleet is never one response. */
  listPageSize?: number;
  logger: Logger;
  labelSelector?: string;
  fieldSelector?: string;
  /** First backoff after an error; doubles per consecutive error up to maxBackoffMs (full jitter). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * The server ends each watch after this long (timeoutSeconds); the informer then re-watches
   * from its last resourceVersion without a list. Default: random in [300, 600) s, as client-go.
   */
  watchTimeoutSeconds?: number;
  /**
   * A watch still open this long after its timeoutSeconds is taken as hung (a half-open
   * connection, a paused proxy): it is aborted and the informer relists. Default 30 s.
   */
  watchGraceMs?: number;
  /** The watch's Accept header, for a representation other than the full object (metadata only). */
  watchAccept?: string;
  /**
   * Applied to every listed or watched object before it is cached or handed to listeners: what a
   * process never reads is not kept. Default trimForCache (no managedFields, no kubectl
   * last-applied-configuration); a transform given here replaces it and must trim as much.
   */
  transform?: (obj: T) => T;
  /**
   * Which objects this process holds (e.g. a scheduler replica's plan shards'): applied to every
   * listed or watched object before it is trimmed. An object that stops being kept is dropped
   * (a delete for the listeners); the others are remembered by key only (knows()). When the
   * predicate's answer changes, call refilter(). Default: every object.
   */
  keep?: (obj: T) => boolean;
}

/** A list request's page: the pager's limit and the previous page's continue token. */
export interface ListPage {
  limit: number;
  continue?: string;
}

/** A page as @kubernetes/client-node's list calls take it (their `_continue` is the query's `continue`). */
export function listPageParams(page: ListPage): { limit: number; _continue?: string } {
  return page.continue ? { limit: page.limit, _continue: page.continue } : { limit: page.limit };
}

/** client-go's pager size. */
const LIST_PAGE_SIZE = 500;

export type InformerEvent = 'add' | 'update' | 'delete' | 'change' | 'connect' | 'error';
/** `old` is the cached object an update replaces (absent for add and delete). */
export type InformerObjectCallback<T> = (obj: T, old?: T) => void;
export type InformerErrorCallback = (err?: unknown) => void;

export interface ResilientInformer<T extends KubernetesObject> extends ObjectCache<T> {
  /** add/update/delete describe the cache: every object delivered once per change (updates with the object they replace), deletes carry the last known object. */
  on(verb: 'add' | 'update' | 'delete' | 'change', cb: InformerObjectCallback<T>): void;
  /** connect: the cache is in sync with a fresh list. error: informational, the informer carries on. */
  on(verb: 'connect' | 'error', cb: InformerErrorCallback): void;
  off(verb: InformerEvent, cb: InformerObjectCallback<T> | InformerErrorCallback): void;
  /** Starts the loop; resolves after the first list attempt (success or not). Await synced() for a warm cache. */
  start(): Promise<void>;
  /** Ends the watch and the loop; the cache is kept. */
  stop(): Promise<void>;
  /** Resolves once the first list has been applied. */
  synced(): Promise<void>;
  /** Restarts after errors and 410s since creation (also herdless_informer_restarts_total). */
  restarts(): number;
  /** The resourceVersion the cache is at (of the last list, event or bookmark). */
  latestResourceVersion(): string;
  /** Whether the server has this object as far as the informer knows, kept in the cache or not (see `keep`). */
  knows(name: string, namespace?: string): boolean;
  /**
   * After `keep`'s answer changed: drops the cached objects it no longer keeps (a delete each),
   * and with `widened` lists the collection again, page by page, and adds the objects it now
   * keeps, while the watch goes on. Resolves once the cache holds them. Calls run one at a time;
   * those made while one runs share the next (one list for all).
   */
  refilter(opts: { widened: boolean }): Promise<void>;
}

/** How one watch ended. */
type WatchEnd =
  | { kind: 'closed' } // the server (or its timeout) ended it: re-watch from the last resourceVersion
  | { kind: 'expired'; message: string } // 410 Gone: the resourceVersion is too old, relist
  | { kind: 'failed'; error: unknown }; // anything else: back off, relist

/** Without this much healthy watching, consecutive errors keep growing the backoff. */
const HEALTHY_WATCH_MS = 10_000;

export function createResilientInformer<T extends KubernetesObject>(opts: ResilientInformerOptions<T>): ResilientInformer<T> {
  const initialBackoffMs = opts.initialBackoffMs ?? 200;
  const maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  const graceMs = opts.watchGraceMs ?? 30_000;
  // Every watch request waits for the process's client-side limit (kube-http.ts).
  const watcher = new Watch(rateLimitedWatchConfig(opts.watchAccept ? withAccept(opts.kc, opts.watchAccept) : opts.kc));
  const transform = opts.transform ?? trimForCache;
  const pageSize = opts.listPageSize ?? LIST_PAGE_SIZE;
  const log = opts.logger.child({ informer: opts.name });

  const cache = new ObjectStore<T>();
  const keep = opts.keep;
  /** Keys of the objects `keep` turned away (only with `keep`): known to exist, not held. */
  const unkept = new Set<string>();
  /** Full lists applied so far: a refilter's list older than one of them is not merged. */
  let listsApplied = 0;
  /** While a refilter lists: the keys watch events touched meanwhile (their event is newer than or as new as the list). */
  let touched: Set<string> | undefined;
  let refilters: Promise<void> = Promise.resolve();
  /** The refilter waiting behind the running one: later calls join it (one list serves them all). */
  let queuedRefilter: { widened: boolean; done: Promise<void> } | undefined;
  /** Waiters for the next full list (a refilter whose own list failed). */
  let nextListWaiters: Array<() => void> = [];
  let relistRequested = false;
  const listeners = {
    add: new Set<InformerObjectCallback<T>>(),
    update: new Set<InformerObjectCallback<T>>(),
    delete: new Set<InformerObjectCallback<T>>(),
    connect: new Set<InformerErrorCallback>(),
    error: new Set<InformerErrorCallback>(),
  };

  let resourceVersion = '';
  let stopped = true;
  let restartCount = 0;
  let backoffMs = initialBackoffMs;
  let loop: Promise<void> | undefined;
  let abortCurrent: (() => void) | undefined;
  let wake: (() => void) | undefined;
  let markSynced!: () => void;
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));
  let firstAttemptDone!: () => void;
  let firstAttempt = new Promise<void>((resolve) => (firstAttemptDone = resolve));

  function emit(verb: 'add' | 'update' | 'delete', obj: T, old?: T): void;
  function emit(verb: 'connect' | 'error', err?: unknown): void;
  function emit(verb: keyof typeof listeners, arg?: unknown, old?: unknown): void {
    for (const cb of listeners[verb]) {
      try {
        (cb as (a: unknown, b?: unknown) => void)(arg, old);
      } catch (e) {
        // A handler's bug must not stop the informer; it is logged, not retried.
        log.error({ err: describe(e), verb }, 'informer event handler threw');
      }
    }
  }

  /** Removes `key` from the cache, if there, with a delete carrying `last` (default: the cached object). */
  function uncache(key: string, last?: T): void {
    const old = cache.get(key);
    if (!old) return;
    cache.delete(key);
    emit('delete', last ?? old);
  }

  /** Wakes the refilters waiting for the next full list (it was applied, or the informer stopped). */
  function releaseListWaiters(): void {
    const waiters = nextListWaiters;
    nextListWaiters = [];
    for (const w of waiters) w();
  }

  /** Replaces the cache by the list and emits the difference: the cache now equals the server. */
  async function relist(): Promise<void> {
    // Page by page, each object trimmed as its page arrives: the untrimmed fleet is never held at
    // once. The pages are one snapshot (the server serves a continue token from the first page's
    // resourceVersion; an expired token is a 410 and the list is tried again).
    const fresh = new Map<string, T>();
    const turnedAway = new Set<string>();
    const list = await listAll((item) => {
      const key = keyOf(item);
      if (keep && !keep(item)) turnedAway.add(key);
      else fresh.set(key, transform(item));
    });
    unkept.clear();
    for (const key of turnedAway) unkept.add(key);
    listsApplied++;
    for (const [key, old] of cache.entries()) {
      if (fresh.has(key)) continue;
      // Turned away by the predicate as it was when its page came, held now (a refilter merged
      // it while this list paged): it stays, and the watch goes on from this list's snapshot.
      if (keep && turnedAway.has(key) && keep(old)) {
        unkept.delete(key);
        continue;
      }
      uncache(key);
    }
    for (const [key, obj] of fresh) {
      const old = cache.get(key);
      cache.set(key, obj);
      if (!old) emit('add', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) emit('update', obj, old);
    }
    resourceVersion = list.metadata?.resourceVersion ?? '';
    markSynced();
    releaseListWaiters();
    emit('connect');
  }

  /** Every page of one list (one snapshot: an expired continue token is a 410 and the list fails), each item handed to `take` as its page arrives. */
  async function listAll(take: (item: T) => void): Promise<KubernetesListObject<T>> {
    let page: ListPage = { limit: pageSize };
    for (;;) {
      const list = await opts.list(page);
      for (const item of list.items ?? []) take(item);
      const token = continueOf(list);
      if (!token) return list;
      page = { limit: pageSize, continue: token };
    }
  }

  /** Drops what `keep` no longer keeps; with `widened`, adds from a fresh list what it now keeps. */
  async function refilterOnce(widened: boolean): Promise<void> {
    if (!keep) return;
    for (const [key, old] of cache.entries()) {
      if (keep(old)) continue;
      unkept.add(key);
      uncache(key);
    }
    if (!widened || stopped) return;
    const listsBefore = listsApplied;
    const seen = new Set<string>();
    touched = seen;
    const found = new Map<string, T>();
    try {
      await listAll((item) => {
        if (keep(item)) found.set(keyOf(item), transform(item));
      });
    } catch (err) {
      // The cache must not miss what it now keeps: a full list (the watch restarts) brings it.
      log.warn({ err: describe(err) }, 'informer could not list the objects it now keeps; relisting in full');
      await new Promise<void>((resolve) => {
        nextListWaiters.push(resolve);
        relistRequested = true;
        abortCurrent?.();
      });
      return;
    } finally {
      touched = undefined;
    }
    // An object a watch event touched meanwhile is as the watch says (a delete seen before the
    // list is merged must not bring it back); every later change comes through the watch, in
    // order. A full list applied meanwhile may be older or newer than this one, and its first
    // pages may have been judged by the predicate as it was before (a replica's start: the
    // shard is taken while the first list pages). What it turned away existed at its snapshot,
    // and the watch goes on from there (a later delete still comes): those are added. What it
    // neither holds nor turned away is left to the watch: created after its snapshot (the ADDED
    // is still to come), or gone before it (adding it would bring back a deleted object).
    const fullListMeanwhile = listsApplied !== listsBefore;
    for (const [key, obj] of found) {
      if (seen.has(key) || cache.get(key) || (fullListMeanwhile && !unkept.has(key))) continue;
      unkept.delete(key);
      cache.set(key, obj);
      emit('add', obj);
    }
  }

  /** One watch from `resourceVersion` until it ends; events are applied only while it is current. */
  function watchOnce(): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let ended = false;
      let controller: AbortController | undefined;
      let deadline: NodeJS.Timeout | undefined;
      let healthy: NodeJS.Timeout | undefined;
      const timeoutSeconds = opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
      const finish = (end: WatchEnd) => {
        if (ended) return;
        ended = true;
        clearTimeout(deadline);
        clearTimeout(healthy);
        abortCurrent = undefined;
        controller?.abort();
        resolve(end);
      };
      abortCurrent = () => finish({ kind: 'closed' });
      deadline = setTimeout(
        () => finish({ kind: 'failed', error: new Error(`watch still open ${graceMs} ms after its ${timeoutSeconds} s timeout: taken as hung`) }),
        timeoutSeconds * 1000 + graceMs,
      );
      healthy = setTimeout(() => (backoffMs = initialBackoffMs), HEALTHY_WATCH_MS);

      const onEvent = (type: string, obj: unknown) => {
        if (ended) return; // a late line from an aborted stream: its state is superseded
        const raw = obj as T & { code?: number; reason?: string; message?: string };
        const isObjectEvent = type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED';
        if (isObjectEvent) touched?.add(keyOf(raw));
        if (keep && (type === 'ADDED' || type === 'MODIFIED') && !keep(raw)) {
          // Not (or no longer) held: remembered by key; dropped if it was cached.
          const key = keyOf(raw);
          unkept.add(key);
          uncache(key);
          const rv = raw.metadata?.resourceVersion;
          if (rv) resourceVersion = rv;
          return;
        }
        const object = isObjectEvent ? transform(raw) : raw;
        switch (type) {
          case 'ADDED':
          case 'MODIFIED': {
            const key = keyOf(object);
            unkept.delete(key);
            const old = cache.get(key);
            if (old && old.metadata?.resourceVersion === object.metadata?.resourceVersion) break;
            cache.set(key, object);
            if (old) emit('update', object, old);
            else emit('add', object);
            break;
          }
          case 'DELETED': {
            const key = keyOf(object);
            unkept.delete(key);
            uncache(key, object);
            break;
          }
          case 'BOOKMARK':
            break;
          case 'ERROR':
            // A Status object in the stream; the server ends the watch after it.
            if (raw.code === 410) finish({ kind: 'expired', message: raw.message ?? 'Expired' });
            else finish({ kind: 'failed', error: new Error(`watch error event: ${raw.code ?? '?'} ${raw.reason ?? ''} ${raw.message ?? ''}`.trim()) });
            return;
          default:
            return;
        }
        // Only events in order advance the resourceVersion, so a re-watch never skips one.
        const rv = object.metadata?.resourceVersion;
        if (rv) resourceVersion = rv;
      };
      const onDone = (err: unknown) => {
        if (!err) return finish({ kind: 'closed' });
        const status = (err as { statusCode?: number; code?: unknown }).statusCode ?? (err as { code?: unknown }).code;
        if (status === 410) return finish({ kind: 'expired', message: describe(err) });
        finish({ kind: 'failed', error: err });
      };

      const query: Record<string, string | number | boolean> = {
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
      };
      if (opts.labelSelector !== undefined) query.labelSelector = opts.labelSelector;
      if (opts.fieldSelector !== undefined) query.fieldSelector = opts.fieldSelector;
      watcher.watch(opts.path, query, onEvent, onDone).then(
        (c) => {
          controller = c;
          if (ended) c.abort();
        },
        (e: unknown) => finish({ kind: 'failed', error: e }),
      );
    });
  }

  function countRestart(reason: string, err: unknown, delayMs: number): void {
    restartCount++;
    informerRestarts.inc({ informer: opts.name });
    log.warn({ reason, err: describe(err), delayMs, resourceVersion }, 'informer restarting with a fresh list');
    emit('error', err);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });
  }

  function nextDelay(): number {
    const delay = Math.round(Math.random() * backoffMs);
    backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
    return delay;
  }

  async function run(): Promise<void> {
    let needList = true;
    while (!stopped) {
      if (needList) {
        try {
          await relist();
          needList = false;
        } catch (err) {
          firstAttemptDone();
          if (stopped) break;
          const delay = nextDelay();
          countRestart('ListFailed', err, delay);
          await sleep(delay);
          continue;
        }
        firstAttemptDone();
      }
      if (stopped) break;
      const end = await watchOnce();
      if (stopped) break;
      if (relistRequested) {
        relistRequested = false;
        needList = true;
        continue;
      }
      if (end.kind === 'closed') continue;
      needList = true;
      if (end.kind === 'expired') {
        // 410 is the server saying "too old, list again": no error, relist at once (client-go does too).
        countRestart('Expired', new Error(end.message), 0);
        continue;
      }
      const delay = nextDelay();
      countRestart('WatchFailed', end.error, delay);
      await sleep(delay);
    }
  }

  return {
    get: (name, namespace) => cache.get(namespace ? `${namespace}/${name}` : name),
    list: (namespace) => (namespace ? cache.values().filter((o) => o.metadata?.namespace === namespace) : cache.values()),
    on(verb: InformerEvent, cb: InformerObjectCallback<T> | InformerErrorCallback) {
      if (verb === 'change') {
        for (const v of ['add', 'update', 'delete'] as const) listeners[v].add(cb as InformerObjectCallback<T>);
        return;
      }
      (listeners[verb] as Set<typeof cb>).add(cb);
    },
    off(verb, cb) {
      if (verb === 'change') {
        for (const v of ['add', 'update', 'delete'] as const) listeners[v].delete(cb as InformerObjectCallback<T>);
        return;
      }
      (listeners[verb] as Set<typeof cb>).delete(cb);
    },
    async start() {
      if (!stopped) return firstAttempt;
      stopped = false;
      backoffMs = initialBackoffMs;
      loop = run();
      return firstAttempt;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      abortCurrent?.();
      wake?.();
      await loop;
      loop = undefined;
      // A refilter waiting for a full list ends with the loop (the cache is kept as it is).
      releaseListWaiters();
      firstAttempt = new Promise<void>((resolve) => (firstAttemptDone = resolve));
    },
    synced: () => syncedPromise,
    restarts: () => restartCount,
    latestResourceVersion: () => resourceVersion,
    knows: (name, namespace) => {
      const key = namespace ? `${namespace}/${name}` : name;
      return cache.get(key) !== undefined || unkept.has(key);
    },
    refilter({ widened }) {
      // A replica taking several shards at once (a start, a takeover) lists once more, not once a shard.
      if (queuedRefilter) {
        queuedRefilter.widened ||= widened;
        return queuedRefilter.done;
      }
      const queued: { widened: boolean; done: Promise<void> } = { widened, done: Promise.resolve() };
      queued.done = refilters.then(() => {
        queuedRefilter = undefined;
        return refilterOnce(queued.widened);
      });
      queuedRefilter = queued;
      refilters = queued.done.catch(() => undefined);
      return queued.done;
    },
  };
}

/**
 * The client's Watch asks for the full object; this view of the kubeconfig adds another Accept
 * header to the watch request (the Watch reads only these two methods).
 */
function withAccept(kc: KubeConfig, accept: string): KubeConfig {
  const view = {
    getCurrentCluster: () => kc.getCurrentCluster(),
    async applyToFetchOptions(options: Parameters<KubeConfig['applyToFetchOptions']>[0]) {
      const init = await kc.applyToFetchOptions(options);
      (init.headers as { set(name: string, value: string): void }).set('Accept', accept);
      return init;
    },
  };
  return view as unknown as KubeConfig;
}

/** The next page's token: `continue` in the JSON, `_continue` once the client's serializer has read it. */
function continueOf(list: KubernetesListObject<KubernetesObject>): string | undefined {
  const meta = list.metadata as { continue?: string; _continue?: string } | undefined;
  return meta?._continue || meta?.continue || undefined;
}

/** kubectl's copy of the whole object as last applied: as large as the spec, read by nobody here. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * What every informer keeps by default: the object without `metadata.managedFields` (one entry
 * per writer, about half of an ExternalSecret's JSON after its first status write) and without
 * kubectl's last-applied-configuration annotation. Nothing in Herdless reads either from a cache
 * (the worker's managed-Secret cache keeps the ExternalSecrets' own managedFields entries, see
 * worker-caches.ts), and no write is built from them: status writes are JSON patches of status
 * fields, and a PUT without managedFields leaves the server's as they are.
 */
export function trimForCache<T extends KubernetesObject>(obj: T): T {
  const m = obj.metadata;
  if (!m) return obj;
  const { managedFields: _, ...metadata } = m;
  if (m.annotations?.[LAST_APPLIED_ANNOTATION] !== undefined) {
    const { [LAST_APPLIED_ANNOTATION]: _applied, ...annotations } = m.annotations;
    metadata.annotations = annotations;
  }
  return { ...obj, metadata };
}

/** `namespace/name`, or `name` for cluster-scoped objects (ObjectCache.get's two forms). */
function keyOf(obj: KubernetesObject): string {
  const name = obj.metadata?.name ?? '';
  return obj.metadata?.namespace ? `${obj.metadata.namespace}/${name}` : name;
}

class ObjectStore<T> {
  private readonly objects = new Map<string, T>();
  get(key: string): T | undefined {
    return this.objects.get(key);
  }
  set(key: string, obj: T): void {
    this.objects.set(key, obj);
  }
  delete(key: string): void {
    this.objects.delete(key);
  }
  entries(): [string, T][] {
    return [...this.objects.entries()];
  }
  values(): T[] {
    return [...this.objects.values()];
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * A resilient informer over one external-secrets.io/v1 resource: in `namespace` when given (a
 * scheduler's or worker's watchNamespace), else cluster-wide, as a cluster-scoped resource always is.
 */
export function createExternalSecretsInformer(opts: {
  kc: KubeConfig;
  custom: CustomObjectsApi;
  name: string;
  plural: string;
  namespace?: string | undefined;
  logger: Logger;
  listPageSize?: number;
  /** Default trimForCache. */
  transform?: (obj: KubernetesObject) => KubernetesObject;
  /** Default: every object (see ResilientInformerOptions.keep). */
  keep?: (obj: KubernetesObject) => boolean;
}): ResilientInformer<KubernetesObject> {
  const { custom, plural, namespace } = opts;
  const base = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural };
  return createResilientInformer<KubernetesObject>({
    kc: opts.kc,
    name: opts.name,
    path: externalSecretsPath(plural, namespace),
    list: (page) => {
      const paged = { ...base, ...listPageParams(page) };
      return (namespace ? custom.listNamespacedCustomObject({ ...paged, namespace }) : custom.listClusterCustomObject(paged)) as Promise<KubernetesListObject<KubernetesObject>>;
    },
    ...(opts.listPageSize === undefined ? {} : { listPageSize: opts.listPageSize }),
    ...(opts.transform === undefined ? {} : { transform: opts.transform }),
    ...(opts.keep === undefined ? {} : { keep: opts.keep }),
    logger: opts.logger,
  });
}

/** What the API server sends for a metadata-only request: an object's metadata, never its data. */
export const PARTIAL_OBJECT_METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';
export const PARTIAL_OBJECT_METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

/**
 * A resilient informer that lists and watches only the metadata of a core collection (e.g.
 * `/api/v1/secrets`): the API server answers PartialObjectMetadata, so a Secret's data never
 * reaches this process. `transform` should keep only the metadata fields the caller reads (an
 * annotation such as kubectl's last-applied-configuration may hold a copy of the data).
 */
export function createMetadataInformer(opts: {
  kc: KubeConfig;
  name: string;
  path: string;
  labelSelector?: string;
  logger: Logger;
  transform: (obj: KubernetesObject) => KubernetesObject;
}): ResilientInformer<KubernetesObject> {
  const queryOf = (page: ListPage): string => {
    const query = new URLSearchParams({ limit: String(page.limit) });
    if (opts.labelSelector !== undefined) query.set('labelSelector', opts.labelSelector);
    if (page.continue) query.set('continue', page.continue);
    return `?${query}`;
  };
  return createResilientInformer<KubernetesObject>({
    kc: opts.kc,
    name: opts.name,
    path: opts.path,
    ...(opts.labelSelector === undefined ? {} : { labelSelector: opts.labelSelector }),
    list: (page) => readObject<KubernetesListObject<KubernetesObject>>(opts.kc, `${opts.path}${queryOf(page)}`, PARTIAL_OBJECT_METADATA_LIST_ACCEPT),
    watchAccept: PARTIAL_OBJECT_METADATA_ACCEPT,
    transform: opts.transform,
    logger: opts.logger,
  });
}
