// The ClusterExternalSecret controller: runs in the scheduler's leader session (one writer per
// cluster), stops with it. It watches ClusterExternalSecrets and Namespaces, and follows the
// scheduler's ExternalSecret and store caches: a CES is reconciled when it changes, when any
// namespace appears, goes or changes its labels, when an ExternalSecret it controls changes or
// goes (restored), when a store changes (its controller class decides who serves the CES), and
// every refreshTime (default 1h, ESO's). One CES at a time: a fan-out is a handful of writes per
// namespace, and the ExternalSecrets it creates are planned like any other.
import type { KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import {
  PLURALS,
  createExternalSecretsInformer,
  createResilientInformer,
  listPageParams,
  parseGoDuration,
  servesExternalSecretIn,
  type KubeClients,
  type Logger,
  type ResilientInformer,
} from '@herdless/core';
import { CES_KIND, cesSpecOf, selectNamespaces, type NamespaceView, type RawObject } from './provisioning-plan.js';
import { reconcileClusterExternalSecret, type CesReadModel } from './reconcile-cluster-external-secret.js';
import type { PauseGate } from '../queue/dispatcher.js';

/** ESO's RequeueInterval for ClusterExternalSecrets without refreshTime. */
const DEFAULT_REFRESH_MS = 60 * 60 * 1000;
/** After a conflict (a cache behind the server), try again this soon. */
const CONFLICT_RETRY_MS = 1000;

/** What the controller reads from the scheduler's own caches (ExternalSecrets and stores). */
export interface SchedulerCaches {
  externalSecrets: { get(name: string, namespace?: string): KubernetesObject | undefined };
  secretStores: { get(name: string, namespace?: string): KubernetesObject | undefined };
  clusterSecretStores: { get(name: string): KubernetesObject | undefined };
  subscribe(listener: (kind: 'ExternalSecret' | 'SecretStore' | 'ClusterSecretStore' | 'Secret', event: 'add' | 'update' | 'delete', obj: KubernetesObject) => void): () => void;
}

export interface ClusterExternalSecretsOptions {
  kube: KubeClients;
  caches: SchedulerCaches;
  controllerClass: string;
  signal: AbortSignal;
  /** Paused while the Lease's renewal is overdue: no ExternalSecret is written until it resumes. */
  gate?: PauseGate;
  logger: Logger;
}

export async function runClusterExternalSecrets(opts: ClusterExternalSecretsOptions): Promise<void> {
  const { kube, caches, signal } = opts;
  const logger = opts.logger.child({ controller: 'clusterexternalsecrets' });
  const ces = createExternalSecretsInformer({ kc: kube.kc, custom: kube.custom, name: 'clusterexternalsecrets', plural: PLURALS.ClusterExternalSecret, logger });
  const namespaces: ResilientInformer<V1Namespace> = createResilientInformer<V1Namespace>({
    kc: kube.kc,
    name: 'ces-namespaces',
    path: '/api/v1/namespaces',
    list: async (page) => (await kube.core.listNamespace(listPageParams(page))) as never,
    logger,
  });
  const read: CesReadModel = {
    namespaces: () =>
      namespaces.list().map((n) => ({ name: n.metadata?.name as string, labels: n.metadata?.labels ?? {}, deleting: Boolean(n.metadata?.deletionTimestamp) })),
    externalSecret: (namespace, name) => caches.externalSecrets.get(name, namespace) as RawObject | undefined,
  };

  const pending = new Set<string>();
  const timers = new Map<string, NodeJS.Timeout>();
  let wake: (() => void) | undefined;
  const enqueue = (name: string | undefined): void => {
    if (!name || signal.aborted) return;
    pending.add(name);
    wake?.();
  };
  const enqueueAll = (): void => ces.list().forEach((c) => enqueue(c.metadata?.name));
  const requeueAfter = (name: string, ms: number): void => {
    clearTimeout(timers.get(name));
    timers.set(name, setTimeout(() => enqueue(name), ms));
  };

  ces.on('add', (obj) => enqueue(obj.metadata?.name));
  ces.on('update', (obj) => enqueue(obj.metadata?.name));
  ces.on('delete', (obj) => {
    clearTimeout(timers.get(obj.metadata?.name as string));
    timers.delete(obj.metadata?.name as string);
  });
  // Any namespace change may add or remove it from a CES's choice (a namespace whose labels stop
  // matching is cleaned up at once, where ESO waits for the refreshTime).
  for (const verb of ['add', 'update', 'delete'] as const) namespaces.on(verb, enqueueAll);
  const unsubscribe = caches.subscribe((kind, _event, obj) => {
    if (kind === 'SecretStore' || kind === 'ClusterSecretStore') enqueueAll();
    if (kind !== 'ExternalSecret') return;
    const owner = (obj as RawObject).metadata?.ownerReferences?.find((r) => r.controller === true && r.kind === CES_KIND);
    if (owner) enqueue(owner.name);
  });

  /** ESO serves every CES; Herdless only those whose ExternalSecrets it would serve in every chosen namespace. */
  const servedHere = (obj: RawObject, chosen: NamespaceView[]): boolean => {
    const spec = cesSpecOf(obj).externalSecretSpec;
    return [{ name: '' }, ...chosen].every((ns) => servesExternalSecretIn(spec, ns.name, opts.controllerClass, caches));
  };

  const reconcileOne = async (name: string): Promise<void> => {
    const obj = ces.get(name) as RawObject | undefined;
    if (!obj || obj.metadata?.deletionTimestamp) return;
    const selection = selectNamespaces(obj, read.namespaces());
    if ('chosen' in selection && !servedHere(obj, selection.chosen)) {
      logger.debug({ clusterExternalSecret: name }, 'skipping a ClusterExternalSecret whose store belongs to another controller class');
      return;
    }
    const outcome = await reconcileClusterExternalSecret(kube, read, obj, logger);
    if (outcome.failed.size > 0) logger.info({ clusterExternalSecret: name, failed: [...outcome.failed.keys()] }, 'ClusterExternalSecret: some namespaces failed');
    requeueAfter(name, outcome.conflict ? CONFLICT_RETRY_MS : refreshMsOf(obj));
  };

  try {
    await Promise.all([ces.start(), namespaces.start()]);
    await Promise.race([Promise.all([ces.synced(), namespaces.synced()]), aborted(signal)]);
    enqueueAll();
    while (!signal.aborted) {
      if (opts.gate?.paused) {
        await Promise.race([resumed(opts.gate), aborted(signal)]);
        continue;
      }
      const [next] = pending;
      if (next === undefined) {
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted(signal)]);
        wake = undefined;
        continue;
      }
      pending.delete(next);
      try {
        await reconcileOne(next);
      } catch (e) {
        logger.warn({ clusterExternalSecret: next, err: (e as Error).message }, 'ClusterExternalSecret reconcile failed; retrying');
        requeueAfter(next, CONFLICT_RETRY_MS * 5);
      }
    }
  } finally {
    unsubscribe();
    for (const t of timers.values()) clearTimeout(t);
    await Promise.all([ces.stop(), namespaces.stop()]);
  }
}

function refreshMsOf(obj: RawObject): number {
  const text = cesSpecOf(obj).refreshTime;
  if (!text) return DEFAULT_REFRESH_MS;
  try {
    const ms = parseGoDuration(text);
    return ms > 0 ? ms : DEFAULT_REFRESH_MS;
  } catch {
    return DEFAULT_REFRESH_MS;
  }
}

/** Resolves when `gate` is no longer paused (its listener then detached). */
function resumed(gate: PauseGate): Promise<void> {
  return new Promise((resolve) => {
    const detach = gate.onChange((paused) => {
      if (paused) return;
      detach();
      resolve();
    });
  });
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
