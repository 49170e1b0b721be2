// Writes the target Secret: create or update with ESO's creation policies, an owner reference
// for Owner (so the controller-manager's garbage collector deletes it with its ExternalSecret),
// and no write at all when the rendered content's hash is unchanged. 409s retry on a fresh read.
import type { V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import {
  API_VERSION,
  DATA_HASH_ANNOTATION,
  isConflict,
  isNotFound,
  MANAGED_LABEL,
  Reasons,
  targetSecretName,
  terminal,
  transient,
  writeObject,
  type ExternalSecret,
  type KubeClients,
} from '@herdless/core';
import type { RenderedSecret } from './render-secret.js';
import type { WorkerCaches } from './worker-caches.js';

export type ApplyResult = 'created' | 'updated' | 'unchanged' | 'skipped';

const MAX_CONFLICT_RETRIES = 5;

export async function applySecret(kube: KubeClients, es: ExternalSecret, rendered: RenderedSecret, caches?: WorkerCaches): Promise<ApplyResult> {
  const policy = es.spec.target.creationPolicy;
  if (policy === 'None') return 'skipped';
  const namespace = es.metadata.namespace as string;
  const name = targetSecretName(es);
  // The common case of a routine refresh: the cached Secret already holds this content.
  const cached = caches?.managedSecret(namespace, name);
  if (cached && cached.metadata?.annotations?.[DATA_HASH_ANNOTATION] === rendered.hash && ownedAsWanted(es, cached)) {
    return 'unchanged';
  }
  // Warm cache and no managed Secret of that name: most likely none at all (a first sync), so
  // create without reading first; a 409 (it exists after all: unmanaged, or not yet in the
  // cache) falls through to the read-then-write loop. Merge never creates.
  if (caches && !cached && policy !== 'Merge') {
    try {
      await createSecret(kube, namespace, buildSecret(es, rendered, undefined));
      return 'created';
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const existing = await readSecret(kube, namespace, name);
    try {
      if (!existing) {
        if (policy === 'Merge') {
          throw transient(Reasons.TargetNotFound, `target Secret "${name}" does not exist; creationPolicy Merge only updates an existing Secret`);
        }
        await createSecret(kube, namespace, buildSecret(es, rendered, undefined));
        return 'created';
      }
      if (existing.metadata?.annotations?.[DATA_HASH_ANNOTATION] === rendered.hash && ownedAsWanted(es, existing)) {
        return 'unchanged';
      }
      await writeObject(kube.kc, 'PUT', `${secretsPath(namespace)}/${encodeURIComponent(name)}`, buildSecret(es, rendered, existing));
      return 'updated';
    } catch (e) {
      // 409 on create (someone created it meanwhile) or on replace (stale resourceVersion):
      // read again and retry against the fresh object.
      if (isConflict(e)) continue;
      throw e;
    }
  }
  throw transient(Reasons.TargetWriteConflict, `target Secret "${name}" kept changing under us (${MAX_CONFLICT_RETRIES} conflicts in a row)`);
}

/** The worker never reads the Secret the server sends back: writeObject does not parse it. */
const secretsPath = (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;

function createSecret(kube: KubeClients, namespace: string, secret: V1Secret): Promise<void> {
  return writeObject(kube.kc, 'POST', secretsPath(namespace), secret);
}

async function readSecret(kube: KubeClients, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await kube.core.readNamespacedSecret({ namespace, name });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

function ownerReferenceOf(es: ExternalSecret): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: 'ExternalSecret',
    name: es.metadata.name as string,
    uid: es.metadata.uid as string,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function ownedAsWanted(es: ExternalSecret, secret: V1Secret): boolean {
  if (es.spec.target.creationPolicy !== 'Owner') return true;
  return (secret.metadata?.ownerReferences ?? []).some((r) => r.uid === es.metadata.uid && r.controller);
}

function buildSecret(es: ExternalSecret, rendered: RenderedSecret, existing: V1Secret | undefined): V1Secret {
  const policy = es.spec.target.creationPolicy;
  const name = targetSecretName(es);
  let ownerReferences = existing?.metadata?.ownerReferences ?? [];
  if (policy === 'Owner') {
    const otherController = ownerReferences.find((r) => r.controller && r.uid !== es.metadata.uid);
    if (otherController) {
      throw terminal(
        Reasons.TargetConflict,
        `target Secret "${name}" is already controlled by ${otherController.kind} "${otherController.name}"; creationPolicy Owner cannot take it over`,
      );
    }
    ownerReferences = [...ownerReferences.filter((r) => r.uid !== es.metadata.uid), ownerReferenceOf(es)];
  }
  const merge = policy === 'Merge';
  const data = merge ? { ...(existing?.data ?? {}), ...rendered.data } : rendered.data;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: es.metadata.namespace as string,
      ...(existing?.metadata?.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
      labels: { ...(merge ? existing?.metadata?.labels : {}), ...rendered.labels, [MANAGED_LABEL]: 'true' },
      annotations: { ...(merge ? existing?.metadata?.annotations : {}), ...rendered.annotations, [DATA_HASH_ANNOTATION]: rendered.hash },
      ...(ownerReferences.length > 0 ? { ownerReferences } : {}),
    },
    type: merge ? (existing?.type ?? rendered.type) : rendered.type,
    data,
    ...(rendered.immutable === undefined ? {} : { immutable: rendered.immutable }),
  };
}
