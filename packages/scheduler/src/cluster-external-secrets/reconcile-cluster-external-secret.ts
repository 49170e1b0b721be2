// One ClusterExternalSecret, one pass, in ESO v0.20.4's order: remove the ExternalSecrets of a
// previous externalSecretName, choose the namespaces, delete its ExternalSecrets from namespaces
// no longer chosen, create or update one in each chosen namespace (never over an ExternalSecret
// it does not control), then write the status when it changed. Deleting the CES deletes its
// ExternalSecrets through their controller reference (the garbage collector), so no finalizer.
// Reads come from the scheduler's warm caches; only writes go to the API server.
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS, isConflict, isNotFound, mergePatch, type KubeClients, type Logger } from '@herdless/core';
import {
  ALREADY_EXISTS,
  canonical,
  cesStatusOf,
  desiredExternalSecret,
  externalSecretNameOf,
  isOwnedBy,
  needsWrite,
  selectNamespaces,
  statusOf,
  type NamespaceView,
  type RawObject,
} from './provisioning-plan.js';

export interface CesReadModel {
  namespaces(): NamespaceView[];
  externalSecret(namespace: string, name: string): RawObject | undefined;
}

export interface ReconcileOutcome {
  provisioned: string[];
  failed: Map<string, string>;
  /** A write met a conflict (a cache behind the server): reconcile again soon. */
  conflict: boolean;
}

const es = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ExternalSecret };

export async function reconcileClusterExternalSecret(kube: KubeClients, read: CesReadModel, ces: RawObject, logger: Logger): Promise<ReconcileOutcome> {
  const cesName = ces.metadata?.name as string;
  const status = cesStatusOf(ces);
  const esName = externalSecretNameOf(ces);
  const failed = new Map<string, string>();
  let conflict = false;
  const note = (namespace: string, e: unknown, what: string): void => {
    if (isConflict(e)) conflict = true;
    failed.set(namespace, `${what}: ${messageOf(e)}`);
  };

  const previous = status.externalSecretName;
  if (previous && previous !== esName) {
    for (const ns of status.provisionedNamespaces ?? []) {
      await deleteOwned(kube, read, ns, previous, cesName).catch((e: unknown) => note(ns, e, 'could not delete ExternalSecret'));
    }
    if (failed.size > 0) return finish(kube, ces, previous, [], failed, conflict, logger);
  }

  const selection = selectNamespaces(ces, read.namespaces());
  if ('error' in selection) {
    failed.set('unknown', selection.error);
    return finish(kube, ces, esName, status.provisionedNamespaces ?? [], failed, conflict, logger);
  }
  const chosen = new Set(selection.chosen.map((n) => n.name));
  for (const ns of status.provisionedNamespaces ?? []) {
    if (chosen.has(ns)) continue;
    await deleteOwned(kube, read, ns, esName, cesName).catch((e: unknown) => note(ns, e, 'external secret in non matching namespace could not be deleted'));
  }

  const provisioned: string[] = [];
  for (const ns of selection.chosen) {
    if (ns.deleting) continue;
    const existing = read.externalSecret(ns.name, esName);
    if (existing && !isOwnedBy(existing, cesName)) {
      failed.set(ns.name, ALREADY_EXISTS);
      continue;
    }
    try {
      await writeExternalSecret(kube, ces, ns.name, existing);
      provisioned.push(ns.name);
    } catch (e) {
      if (!existing && isConflict(e)) {
        // Already there (the cache had not seen it yet): kept as provisioned, checked again at once.
        conflict = true;
        provisioned.push(ns.name);
        continue;
      }
      note(ns.name, e, 'could not create or update ExternalSecret');
    }
  }
  return finish(kube, ces, esName, provisioned, failed, conflict, logger);
}

async function writeExternalSecret(kube: KubeClients, ces: RawObject, namespace: string, existing: RawObject | undefined): Promise<void> {
  const desired = desiredExternalSecret(ces, namespace, existing);
  if (!existing) {
    // A 409 here is the cache behind the server (created by the previous pass): the caller retries soon.
    await kube.custom.createNamespacedCustomObject({ ...es, namespace, body: desired });
    return;
  }
  if (!needsWrite(existing, desired)) return;
  const { managedFields: _, ...metadata } = desired.metadata as RawObject['metadata'] & { managedFields?: unknown };
  // status is a subresource: a PUT of the object leaves it alone.
  await kube.custom.replaceNamespacedCustomObject({ ...es, namespace, name: metadata?.name as string, body: { ...desired, metadata } });
}

async function deleteOwned(kube: KubeClients, read: CesReadModel, namespace: string, name: string, cesName: string): Promise<void> {
  const existing = read.externalSecret(namespace, name);
  if (!existing || !isOwnedBy(existing, cesName)) return;
  try {
    await kube.custom.deleteNamespacedCustomObject({ ...es, namespace, name });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

async function finish(
  kube: KubeClients,
  ces: RawObject,
  esName: string,
  provisioned: string[],
  failed: Map<string, string>,
  conflict: boolean,
  logger: Logger,
): Promise<ReconcileOutcome> {
  const next = statusOf(esName, provisioned, failed);
  const current = cesStatusOf(ces);
  if (canonical(next) !== canonical(current)) {
    // Merge patch: null removes a list that is now empty, as ESO's omitempty status does.
    const body = { status: { failedNamespaces: null, provisionedNamespaces: null, ...next } };
    try {
      await kube.custom.patchClusterCustomObjectStatus(
        { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ClusterExternalSecret, name: ces.metadata?.name as string, body },
        mergePatch,
      );
    } catch (e) {
      if (!isNotFound(e)) logger.warn({ clusterExternalSecret: ces.metadata?.name, err: messageOf(e) }, 'could not write the ClusterExternalSecret status');
    }
  }
  return { provisioned, failed, conflict };
}

function messageOf(e: unknown): string {
  const body = (e as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      // not JSON: fall through
    }
  }
  return e instanceof Error ? e.message.slice(0, 300) : String(e);
}
