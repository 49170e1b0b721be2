// One ExternalSecret, one pass: read → check spec → resolve store → fetch → render → apply → mark.
// Each step is a named function; the error's class (not this code) decides what happens next.
import {
  EXTERNAL_SECRETS_GROUP,
  EXTERNAL_SECRETS_VERSION,
  HerdlessError,
  isHerdlessError,
  isNotFound,
  lastSyncMs,
  parseExternalSecret,
  PLURALS,
  Reasons,
  refreshIntervalMsOf,
  servesExternalSecretSpec,
  statusCodeOf,
  storeRefsOf,
  terminal,
  throttled,
  transient,
  withSpan,
  type ExternalSecret,
  type KubeClients,
  type Logger,
  type StoreKind,
  type SyncJob,
} from '@herdless/core';
import type { AmbientWebIdentity, Provider, ProviderContext } from '@herdless/providers';
import type { V1Secret } from '@kubernetes/client-node';
import { applySecret, type ApplyResult } from './apply-secret.js';
import { checkSpec } from './check-spec.js';
import { applyNoData, whenNoData } from './deletion-policy.js';
import { readDriftedTarget } from './drift-check.js';
import { fetchRemoteData } from './fetch-remote-data.js';
import { markFailed, markSynced, StatusTargetGone } from './mark-status.js';
import { renderSecret } from './render-secret.js';
import { resolveStore } from './resolve-store.js';
import type { SyncEventRecorder } from './sync-events.js';
import type { WorkerCaches } from './worker-caches.js';
import { CredentialsCache } from './credentials-cache.js';
import type { TemplateRenderer } from './template/engine.js';
import { readTemplateSources } from './template/template-sources.js';
import { readServiceAccountAnnotations, requestServiceAccountToken } from './service-accounts.js';

/** Where providers come from (a cache keyed by provider key and credentials). */
export type ProviderSource = (ctx: ProviderContext) => Promise<Provider>;

export interface SyncDeps {
  kube: KubeClients;
  /** Warm caches; without them every read goes to the API server. */
  caches?: WorkerCaches;
  /** Credentials read from Secrets, kept in this process's memory for a short while. */
  credentials?: CredentialsCache;
  /** The annotations of auth.jwt's ServiceAccounts, likewise. */
  serviceAccounts?: CredentialsCache<Record<string, string>>;
  providers: ProviderSource;
  awsEndpoint?: string;
  awsStsEndpoint?: string;
  /** The worker's own web identity (IRSA), for stores with ambient credentials. */
  awsWebIdentity?: AmbientWebIdentity;
  logger: Logger;
  now: () => Date;
  /** Events on sync failures and recoveries (rate-limited); none without it. */
  events?: SyncEventRecorder;
  /** --controller-class: an ExternalSecret whose stores name another class gets no write (core's controller-class.ts). */
  controllerClass?: string;
  /** ESO's template engine (templates, rewrite, decoding and conversion strategies). */
  templateEngine: TemplateRenderer;
}

/**
 * intact: a drift job found the target as the last sync wrote it (no call, no write, no status);
 * foreign: another controller class's (no call, no write, no status).
 */
export type SyncOutcome =
  | { result: ApplyResult }
  | { result: 'gone' | 'stale' | 'covered' | 'intact' | 'foreign' }
  | { result: 'failed'; reason: string; retry: HerdlessError['retry'] };

export async function syncExternalSecret(job: SyncJob, deps: SyncDeps): Promise<SyncOutcome> {
  const es = await readExternalSecret(deps.kube, job, deps.caches);
  if (!es) return { result: 'gone' };
  const skip = shouldSkip(es, job);
  if (skip) return { result: skip };
  if (deps.controllerClass !== undefined && !(await servedHere(deps, es, deps.controllerClass))) return { result: 'foreign' };
  try {
    checkSpec(es);
    let fresh: V1Secret | null | undefined;
    if (job.reason === 'drift') {
      const drifted = await readDriftedTarget(deps.kube, es);
      if (drifted === 'intact') return { result: 'intact' };
      fresh = drifted;
    }
    const { store, kind } = await resolveStore(deps.kube, es, deps.caches);
    const provider = await deps.providers({
      store,
      storeKind: kind,
      externalSecretNamespace: es.metadata.namespace as string,
      readSecretKey: (ref) => (deps.credentials ? deps.credentials.read(ref, () => readSecretKey(deps.kube, ref)) : readSecretKey(deps.kube, ref)),
      readServiceAccountAnnotations: (ref) =>
        deps.serviceAccounts ? deps.serviceAccounts.read(ref, () => readServiceAccountAnnotations(deps.kube, ref)) : readServiceAccountAnnotations(deps.kube, ref),
      requestServiceAccountToken: (request) => requestServiceAccountToken(deps.kube, request),
      ...(deps.awsEndpoint ? { awsEndpoint: deps.awsEndpoint } : {}),
      ...(deps.awsStsEndpoint ? { awsStsEndpoint: deps.awsStsEndpoint } : {}),
      ...(deps.awsWebIdentity ? { awsWebIdentity: deps.awsWebIdentity } : {}),
    });
    const data = await fetchRemoteData(es, provider, deps.templateEngine);
    const action = Object.keys(data).length === 0 ? whenNoData(es) : 'write';
    const applied = await withSpan('herdless.secret_write', { 'herdless.action': action }, async (span) => {
      const result =
        action === 'write'
          ? await applySecret(deps.kube, es, await renderSecret(es, data, deps.templateEngine, await readTemplateSources(deps.kube, es)), { caches: deps.caches, fresh })
          : await applyNoData(deps.kube, es, action);
      span.setAttribute('herdless.result', result);
      return result;
    });
    // Repaired meanwhile (or by another drift job): this one changes nothing, the status included.
    if (job.reason === 'drift' && applied === 'unchanged') return { result: 'intact' };
    const late = job.deadline !== undefined && job.plannedAt > job.deadline + 1000 ? { plannedAt: job.plannedAt, deadline: job.deadline } : undefined;
    await withSpan('herdless.status_write', { 'herdless.ready': true }, () => markSynced(deps.kube, es, deps.now(), late, applied));
    await deps.events?.recordTransition(es, { status: 'True', reason: applied, message: '' });
    return { result: applied };
  } catch (e) {
    if (e instanceof StatusTargetGone) return { result: 'gone' };
    const error = toHerdlessError(e);
    if (error.retry === 'throttled') throw error;
    try {
      await withSpan('herdless.status_write', { 'herdless.ready': false, 'herdless.error.reason': error.reason }, () => markFailed(deps.kube, es, error, deps.now()));
      await deps.events?.recordTransition(es, { status: 'False', reason: error.reason, message: error.message });
    } catch (markError) {
      if (markError instanceof StatusTargetGone) return { result: 'gone' };
      throw markError;
    }
    deps.logger.info({ namespace: job.namespace, name: job.name, reason: error.reason, retry: error.retry, msg2: error.message }, 'sync failed');
    return { result: 'failed', reason: error.reason, retry: error.retry };
  }
}

/**
 * The ExternalSecret the job is about: from the cache when it is at least as new as the job's
 * generation, else a direct read. Undefined when gone (or deleted and recreated: other uid).
 */
export async function readExternalSecret(kube: KubeClients, job: SyncJob, caches?: WorkerCaches): Promise<ExternalSecret | undefined> {
  const cached = caches?.externalSecret(job.namespace, job.name);
  if (cached && cached.metadata?.uid === job.uid && (cached.metadata?.generation ?? 0) >= job.generation) {
    const es = parseExternalSecret(cached);
    return es.metadata.deletionTimestamp ? undefined : es;
  }
  try {
    const obj = await kube.custom.getNamespacedCustomObject({
      group: EXTERNAL_SECRETS_GROUP,
      version: EXTERNAL_SECRETS_VERSION,
      plural: PLURALS.ExternalSecret,
      namespace: job.namespace,
      name: job.name,
    });
    const es = parseExternalSecret(obj);
    if (es.metadata.uid !== job.uid || es.metadata.deletionTimestamp) return undefined;
    return es;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/**
 * stale: the spec moved on and a newer job exists for it; covered: a later sync already
 * served the deadline this refresh job was planned for (e.g. a spec change synced it).
 */
export function shouldSkip(es: ExternalSecret, job: SyncJob): 'stale' | 'covered' | undefined {
  if ((es.metadata.generation ?? 0) > job.generation) return 'stale';
  if ((job.reason === 'refresh' || job.reason === 'overdue') && job.deadline !== undefined) {
    const last = lastSyncMs(es);
    let interval: number;
    try {
      interval = refreshIntervalMsOf(es);
    } catch {
      return undefined;
    }
    if (last !== undefined && interval > 0 && last + interval > job.deadline + 1000) return 'covered';
  }
  return undefined;
}

/**
 * ESO's shouldSkipUnmanagedStore on the raw object (the cached one keeps fields Herdless does not
 * parse, such as sourceRef). "Not ours" from the caches is confirmed by direct reads of the stores:
 * a store just moved to this class must not be skipped because the cache has not seen it yet.
 */
async function servedHere(deps: SyncDeps, es: ExternalSecret, controllerClass: string): Promise<boolean> {
  const namespace = es.metadata.namespace as string;
  const raw = deps.caches?.externalSecret(namespace, es.metadata.name as string);
  const spec = raw?.metadata?.uid === es.metadata.uid ? (raw as { spec?: unknown }).spec : es.spec;
  const refs = storeRefsOf(spec);
  const served = async (fresh: boolean) => {
    const stores = await Promise.all(refs.map((ref) => readRawStore(deps, ref.kind, ref.name, namespace, fresh)));
    return servesExternalSecretSpec(spec, controllerClass, (ref) => stores[refs.findIndex((r) => r.kind === ref.kind && r.name === ref.name)]);
  };
  return (await served(false)) || (deps.caches !== undefined && (await served(true)));
}

async function readRawStore(deps: SyncDeps, kind: StoreKind, name: string, namespace: string, fresh: boolean): Promise<unknown> {
  const cached = fresh ? undefined : deps.caches?.store(kind, name, kind === 'SecretStore' ? namespace : undefined);
  if (cached) return cached;
  const base = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS[kind], name };
  try {
    return kind === 'SecretStore' ? await deps.kube.custom.getNamespacedCustomObject({ ...base, namespace }) : await deps.kube.custom.getClusterCustomObject(base);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function readSecretKey(kube: KubeClients, ref: { namespace: string; name: string; key: string }): Promise<string> {
  try {
    const secret = await kube.core.readNamespacedSecret({ namespace: ref.namespace, name: ref.name });
    const value = secret.data?.[ref.key];
    if (value === undefined) {
      throw terminal(Reasons.InvalidSpec, `credentials Secret "${ref.namespace}/${ref.name}" has no key "${ref.key}"`);
    }
    return Buffer.from(value, 'base64').toString('utf8');
  } catch (e) {
    if (isNotFound(e)) throw terminal(Reasons.InvalidSpec, `credentials Secret "${ref.namespace}/${ref.name}" not found`);
    throw e;
  }
}

/** Errors from outside the provider (the API server, a bug) get a class here. */
export function toHerdlessError(e: unknown): HerdlessError {
  if (isHerdlessError(e)) return e;
  const code = statusCodeOf(e);
  if (code === 403 || code === 401) {
    return terminal(Reasons.AccessDenied, `the Kubernetes API refused the worker (HTTP ${code}); check the worker's RBAC`, e);
  }
  // The API server's own "not now" (its Retry-After, if any, was already waited out by the
  // transport): the job goes back to delayed, with no attempt burned and no status write.
  if (code === 429) return throttled(Reasons.ApiServerThrottled, 'the Kubernetes API server asked the worker to slow down (HTTP 429)', 1_000, e);
  const message = e instanceof Error ? e.message : String(e);
  return transient(Reasons.SecretSyncedError, `sync failed: ${message.slice(0, 300)}`, e);
}
