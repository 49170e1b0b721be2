// What the target Secret should be, decided from what it is, with ESO's rules: who may own it
// (creationPolicy), the data hash ESO writes, which keys, labels and annotations are ours, and
// whether a write is needed at all. Pure: plain values in and out; apply-secret.ts does the I/O.
// Messages name owners by kind and name only, and never carry a value.
import { createHash } from 'node:crypto';
import type { V1ObjectMeta, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import {
  API_VERSION,
  DATA_HASH_ANNOTATION,
  EXTERNAL_SECRETS_GROUP,
  MANAGED_LABEL,
  Reasons,
  readyConditionOf,
  targetSecretName,
  terminal,
  type ExternalSecret,
} from '@herdless/core';
import type { RenderedSecret } from './render-secret.js';

/** ESO's label on a Secret it created with creationPolicy Owner: the hash of "namespace/name" of its ExternalSecret. */
export const OWNER_LABEL = 'reconcile.external-secrets.io/created-by';

/** What the target is built from: the rendered Secret (H1's renderSecret), without its own hash. */
export type TargetContent = Pick<RenderedSecret, 'type' | 'data' | 'labels' | 'annotations' | 'immutable'>;

/** sha3-224 of Go's "%+v" of a value, as ESO's esutils.ObjectHash. */
function goObjectHash(text: string): string {
  return createHash('sha3-224').update(text).digest('hex');
}

/**
 * ESO's data-hash annotation: esutils.ObjectHash(secret.Data), the sha3-224 of Go's "%+v" of a
 * map[string][]byte, i.e. `map[a:[49 50] b:[]]` (keys in byte order, bytes in decimal). Secret
 * keys are ASCII, so JavaScript's default sort is Go's order.
 */
export function esoDataHash(data: Record<string, string>): string {
  const entries = Object.keys(data)
    .sort()
    .map((key) => `${key}:[${Buffer.from(data[key] as string, 'base64').join(' ')}]`);
  return goObjectHash(`map[${entries.join(' ')}]`);
}

/** ESO's created-by label value for an ExternalSecret. */
export function ownerLabelOf(es: ExternalSecret): string {
  return goObjectHash(`${es.metadata.namespace}/${es.metadata.name}`);
}

/**
 * The field manager of every write for this ExternalSecret (ESO's fqdnFor): the Secret's
 * managedFields then say which keys, labels and annotations it set, so that ones it no longer
 * renders are removed without touching anybody else's.
 */
export function fieldManagerOf(es: ExternalSecret): string {
  const name = es.metadata.name as string;
  const plain = `${EXTERNAL_SECRET_FIELD_MANAGER_PREFIX}${name}`;
  return plain.length > 63 ? `${EXTERNAL_SECRET_FIELD_MANAGER_PREFIX}sha3/${goObjectHash(name)}` : plain;
}

/** Every ExternalSecret's field manager starts so (fieldManagerOf). */
export const EXTERNAL_SECRET_FIELD_MANAGER_PREFIX = 'externalsecrets.external-secrets.io/';

/** The keys under `path` (e.g. f:data) that `manager` set, from the Secret's managedFields. */
export function managedKeysOf(secret: V1Secret | undefined, manager: string, path: readonly string[]): string[] {
  const keys: string[] = [];
  for (const entry of secret?.metadata?.managedFields ?? []) {
    if (entry.manager !== manager) continue;
    let fields: unknown = entry.fieldsV1;
    for (const step of path) fields = (fields as Record<string, unknown> | undefined)?.[step];
    if (!fields || typeof fields !== 'object') continue;
    for (const key of Object.keys(fields)) if (key.startsWith('f:')) keys.push(key.slice(2));
  }
  return keys;
}

// ---- Ownership ------------------------------------------------------------------------------

export type OwnershipDecision =
  /** Another controller owns the Secret: no creationPolicy writes over it. */
  | { kind: 'conflict'; owner: { kind: string; name: string } }
  /** The owner references the Secret should carry. */
  | { kind: 'ok'; ownerReferences: V1OwnerReference[] };

/** ESO's test (controllerutil's referSameObject): group, kind and name; not the uid, so a recreated ExternalSecret is still "us". */
function refersTo(es: ExternalSecret, ref: V1OwnerReference): boolean {
  return ref.kind === 'ExternalSecret' && ref.apiVersion.split('/')[0] === EXTERNAL_SECRETS_GROUP && ref.name === es.metadata.name;
}

export function ownerReferenceOf(es: ExternalSecret): V1OwnerReference {
  return { apiVersion: API_VERSION, kind: 'ExternalSecret', name: es.metadata.name as string, uid: es.metadata.uid as string, controller: true, blockOwnerDeletion: true };
}

/**
 * Who owns the target after this sync. ESO refuses a Secret whose controller is another
 * ExternalSecret under every policy (ErrSecretIsOwned), and under Owner any other controller
 * (SetControllerReference fails). Herdless also refuses another controller's Secret under Orphan
 * and Merge (ESO writes it): a Secret is never written over one another controller owns. Owner
 * sets our controller reference; Orphan and Merge remove any reference to us, so that the garbage
 * collector no longer deletes the Secret with its ExternalSecret.
 */
export function decideOwnership(es: ExternalSecret, existing: Pick<V1ObjectMeta, 'ownerReferences'> | undefined): OwnershipDecision {
  const refs = existing?.ownerReferences ?? [];
  const controller = refs.find((r) => r.controller === true);
  if (controller && !refersTo(es, controller)) return { kind: 'conflict', owner: { kind: controller.kind, name: controller.name } };
  const others = refs.filter((r) => !refersTo(es, r));
  return { kind: 'ok', ownerReferences: es.spec.target.creationPolicy === 'Owner' ? [...others, ownerReferenceOf(es)] : others };
}

function conflictError(es: ExternalSecret, owner: { kind: string; name: string }): Error {
  return terminal(
    Reasons.TargetConflict,
    `target Secret "${targetSecretName(es)}" is controlled by ${owner.kind} "${owner.name}"; creationPolicy ${es.spec.target.creationPolicy} does not write a Secret another controller owns`,
  );
}

/** Throws TargetConflict when the Secret belongs to another controller; the owner references otherwise. */
export function ownerReferencesFor(es: ExternalSecret, existing: V1Secret | undefined): V1OwnerReference[] {
  const decision = decideOwnership(es, existing?.metadata);
  if (decision.kind === 'conflict') throw conflictError(es, decision.owner);
  return decision.ownerReferences;
}

// ---- The wanted Secret ----------------------------------------------------------------------

/** `base` without the keys this ExternalSecret's field manager set last time, then `ours` over it. */
function reapply(base: Record<string, string> | undefined, previous: string[], ours: Record<string, string>): Record<string, string> {
  const out = { ...(base ?? {}) };
  for (const key of previous) delete out[key];
  return Object.assign(out, ours);
}

/**
 * The Secret this sync wants, built on the existing one as ESO's mutation does: data replaced
 * (Owner, Orphan) or merged over the keys nobody else set (Merge: our previous keys are removed
 * first, so a key the provider no longer has goes); labels and annotations of others kept, ours
 * replaced; the type of the template, else the existing one; immutable once set.
 */
export function desiredTarget(es: ExternalSecret, content: TargetContent, existing: V1Secret | undefined, ownerReferences: V1OwnerReference[]): V1Secret {
  const manager = fieldManagerOf(es);
  const owner = es.spec.target.creationPolicy === 'Owner';
  const data =
    es.spec.target.creationPolicy === 'Merge' ? reapply(existing?.data, managedKeysOf(existing, manager, ['f:data']), content.data) : { ...content.data };
  const labels = reapply(existing?.metadata?.labels, managedKeysOf(existing, manager, ['f:metadata', 'f:labels']), content.labels);
  labels[MANAGED_LABEL] = 'true';
  if (owner) labels[OWNER_LABEL] = ownerLabelOf(es);
  else delete labels[OWNER_LABEL];
  const annotations = reapply(existing?.metadata?.annotations, managedKeysOf(existing, manager, ['f:metadata', 'f:annotations']), content.annotations);
  annotations[DATA_HASH_ANNOTATION] = esoDataHash(data);
  const immutable = existing?.immutable === true || content.immutable === true;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: targetSecretName(es),
      namespace: es.metadata.namespace as string,
      ...(existing?.metadata?.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
      labels,
      annotations,
      ...(ownerReferences.length > 0 ? { ownerReferences } : {}),
    },
    type: es.spec.target.template?.type ?? existing?.type ?? content.type,
    data,
    ...(immutable ? { immutable: true } : {}),
  };
}

const sameMap = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean => {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => b?.[k] !== undefined && a?.[k] === b[k]);
};

const refKey = (r: V1OwnerReference): string => JSON.stringify([r.apiVersion, r.kind, r.name, r.uid, r.controller === true, r.blockOwnerDeletion === true]);
const sameRefs = (a: V1OwnerReference[] | undefined, b: V1OwnerReference[] | undefined): boolean =>
  sameMap(Object.fromEntries((a ?? []).map((r) => [refKey(r), ''])), Object.fromEntries((b ?? []).map((r) => [refKey(r), ''])));

/** Same data and type: what an immutable Secret cannot change. */
export function sameContent(a: V1Secret, b: V1Secret): boolean {
  return sameMap(a.data, b.data) && (a.type ?? 'Opaque') === (b.type ?? 'Opaque');
}

/** Would writing `desired` change `existing`? Data, type, labels, annotations, owner references, immutability. */
export function sameTarget(desired: V1Secret, existing: V1Secret): boolean {
  return (
    sameContent(desired, existing) &&
    sameMap(desired.metadata?.labels, existing.metadata?.labels) &&
    sameMap(desired.metadata?.annotations, existing.metadata?.annotations) &&
    sameRefs(desired.metadata?.ownerReferences, existing.metadata?.ownerReferences) &&
    (desired.immutable === true) === (existing.immutable === true)
  );
}

export type WritePlan =
  | { kind: 'create'; secret: V1Secret }
  | { kind: 'update'; secret: V1Secret }
  | { kind: 'unchanged' }
  /** creationPolicy Merge and no Secret: Merge never creates (ESO's SecretMissing). */
  | { kind: 'missing' };

/**
 * The write that makes `existing` what this sync wants, or none. Terminal errors: another
 * controller owns it (TargetConflict), its type differs (a Secret's type cannot change), or it is
 * immutable and its data differs (ImmutableSecret; the API server would answer 422 forever).
 */
export function planWrite(es: ExternalSecret, content: TargetContent, existing: V1Secret | undefined): WritePlan {
  if (!existing) {
    if (es.spec.target.creationPolicy === 'Merge') return { kind: 'missing' };
    return { kind: 'create', secret: desiredTarget(es, content, undefined, ownerReferencesFor(es, undefined)) };
  }
  const desired = desiredTarget(es, content, existing, ownerReferencesFor(es, existing));
  if (sameTarget(desired, existing)) return { kind: 'unchanged' };
  const name = targetSecretName(es);
  if ((existing.type ?? 'Opaque') !== desired.type) {
    throw terminal(Reasons.InvalidSpec, `target Secret "${name}" has type ${existing.type}, expected ${desired.type}; a Secret's type cannot change (delete the Secret to change it)`);
  }
  if (existing.immutable === true && !sameContent(desired, existing)) {
    throw terminal(Reasons.ImmutableSecret, `target Secret "${name}" is immutable and its data differs from the provider's; delete the Secret to let it be recreated`);
  }
  return { kind: 'update', secret: desired };
}

// ---- Drift ----------------------------------------------------------------------------------

/**
 * Why the target no longer is what the last sync wrote, judged without the provider (the drift
 * check that runs before any fetch); undefined when it is intact or nothing is to be restored.
 * ESO's isSecretValid: an Orphan target is always valid, a missing target, a missing managed
 * label or a data-hash annotation that is not the hash of the data is not. Herdless also checks
 * the owner references (a removed one would let the garbage collector keep or take the Secret).
 * None writes nothing and Merge never creates, so neither restores a deleted target; a target
 * deleted by deletionPolicy Delete (Ready reason SecretDeleted) stays deleted.
 */
export function targetDrift(es: ExternalSecret, existing: V1Secret | undefined): string | undefined {
  const policy = es.spec.target.creationPolicy;
  if (policy === 'Orphan' || policy === 'None') return undefined;
  if (!existing) {
    if (policy === 'Merge' || readyConditionOf(es)?.reason === Reasons.SecretDeleted) return undefined;
    return 'deleted';
  }
  if (existing.metadata?.labels?.[MANAGED_LABEL] !== 'true') return 'managed label removed';
  if (existing.metadata?.annotations?.[DATA_HASH_ANNOTATION] !== esoDataHash(existing.data ?? {})) return 'data edited';
  const decision = decideOwnership(es, existing.metadata);
  if (decision.kind === 'ok' && !sameRefs(decision.ownerReferences, existing.metadata?.ownerReferences)) return 'owner references edited';
  return undefined;
}
