// Writes the target Secret: create, update or (deletionPolicy Delete) delete it, as
// target-secret.ts decides from what the Secret actually holds — its data, type, labels,
// annotations and owner references, not a hash annotation — so a hand edit is never taken for
// "unchanged". No write when nothing differs. 409s retry against a fresh read.
import type { V1Secret } from '@kubernetes/client-node';
import { isConflict, isNotFound, Reasons, targetSecretName, transient, writeObject, type ExternalSecret, type KubeClients } from '@herdless/core';
import { fieldManagerOf, ownerReferencesFor, planWrite, type TargetContent } from './target-secret.js';
import type { WorkerCaches } from './worker-caches.js';

/**
 * What a sync did to its target. missing: creationPolicy Merge and no Secret (ESO's
 * SecretMissing); deleted / retained: the provider had no data (deletionPolicy Delete / Retain).
 */
export type ApplyResult = 'created' | 'updated' | 'unchanged' | 'skipped' | 'missing' | 'deleted' | 'retained';

const MAX_CONFLICT_RETRIES = 5;

export interface ApplyOptions {
  /** Warm caches; a cached Secret that already is what this sync wants saves the read. */
  caches?: WorkerCaches | undefined;
  /**
   * The target as the caller just read it from the API server (null: it does not exist). Given
   * by a drift job, which must not trust a cache that may not have seen the edit yet.
   */
  fresh?: V1Secret | null | undefined;
}

export async function applySecret(kube: KubeClients, es: ExternalSecret, content: TargetContent, opts: ApplyOptions = {}): Promise<ApplyResult> {
  if (es.spec.target.creationPolicy === 'None') return 'skipped';
  const namespace = es.metadata.namespace as string;
  const name = targetSecretName(es);
  const { caches } = opts;
  if (opts.fresh === undefined && caches) {
    const cached = caches.managedSecret(namespace, name);
    // The common case of a routine refresh: the cached Secret already is what this sync wants.
    // Anything else (a write, a conflict) is decided again on a fresh read below.
    if (cached && planIfValid(es, content, cached)?.kind === 'unchanged') return 'unchanged';
    // Warm cache and no managed Secret of that name: most likely none at all (a first sync), so
    // create without reading first; a 409 (it exists after all: unmanaged, or not yet in the
    // cache) falls through to the read-then-write loop. Merge never creates.
    if (!cached && es.spec.target.creationPolicy !== 'Merge') {
      const plan = planWrite(es, content, undefined);
      try {
        if (plan.kind === 'create') {
          await createSecret(kube, es, plan.secret);
          return 'created';
        }
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
  }
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const existing = attempt === 0 && opts.fresh !== undefined ? (opts.fresh ?? undefined) : await readSecret(kube, namespace, name);
    const plan = planWrite(es, content, existing);
    try {
      switch (plan.kind) {
        case 'missing':
        case 'unchanged':
          return plan.kind;
        case 'create':
          await createSecret(kube, es, plan.secret);
          return 'created';
        case 'update':
          await writeObject(kube.kc, 'PUT', `${secretsPath(namespace)}/${encodeURIComponent(name)}?${managerQuery(es)}`, plan.secret);
          return 'updated';
      }
    } catch (e) {
      // 409 on create (someone created it meanwhile) or on replace (stale resourceVersion):
      // read again and retry against the fresh object.
      if (isConflict(e)) continue;
      throw e;
    }
  }
  throw transient(Reasons.TargetWriteConflict, `target Secret "${name}" kept changing under us (${MAX_CONFLICT_RETRIES} conflicts in a row)`);
}

/**
 * deletionPolicy Delete when the provider has no data left: the target goes (only with
 * creationPolicy Owner, which the caller checked), unless another controller owns it. The uid
 * precondition keeps a Secret recreated meanwhile. Missing already: nothing to do.
 */
export async function deleteTarget(kube: KubeClients, es: ExternalSecret): Promise<void> {
  const namespace = es.metadata.namespace as string;
  const name = targetSecretName(es);
  const existing = await readSecret(kube, namespace, name);
  if (!existing) return;
  ownerReferencesFor(es, existing);
  try {
    await kube.core.deleteNamespacedSecret({ namespace, name, body: { preconditions: { uid: existing.metadata?.uid as string } } });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** The target as the API server has it now, or undefined. */
export async function readSecret(kube: KubeClients, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await kube.core.readNamespacedSecret({ namespace, name });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** The cached Secret's plan, or undefined when judging it would throw (decided again on a fresh read). */
function planIfValid(es: ExternalSecret, content: TargetContent, cached: V1Secret): ReturnType<typeof planWrite> | undefined {
  try {
    return planWrite(es, content, cached);
  } catch {
    return undefined;
  }
}

/** The worker never reads the Secret the server sends back: writeObject does not parse it. */
const secretsPath = (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;

/** Writes under the ExternalSecret's own field manager, so the Secret's managedFields say what it set. */
const managerQuery = (es: ExternalSecret) => `fieldManager=${encodeURIComponent(fieldManagerOf(es))}`;

function createSecret(kube: KubeClients, es: ExternalSecret, secret: V1Secret): Promise<void> {
  return writeObject(kube.kc, 'POST', `${secretsPath(es.metadata.namespace as string)}?${managerQuery(es)}`, secret);
}
