// The ExternalSecret's status is the durable record of the sync: refreshTime and
// syncedResourceVersion on success, the Ready condition always, attempts on failure.
import {
  EXTERNAL_SECRETS_GROUP,
  EXTERNAL_SECRETS_VERSION,
  externalSecretsPath,
  isNotFound,
  statusCodeOf,
  nextReadyCondition,
  PLURALS,
  readyConditionOf,
  Reasons,
  syncedResourceVersionOf,
  targetSecretName,
  toKubeTime,
  writeObject,
  type ExternalSecret,
  type ExternalSecretStatus,
  type HerdlessError,
  type KubeClients,
} from '@herdless/core';
import type { ApplyResult } from './apply-secret.js';

/** ESO's Ready=True conditions for what a sync did to its target (its markAsDone messages). */
const SYNCED_CONDITION: Record<ApplyResult, { reason: string; message: string }> = {
  created: { reason: Reasons.SecretSynced, message: 'secret synced' },
  updated: { reason: Reasons.SecretSynced, message: 'secret synced' },
  unchanged: { reason: Reasons.SecretSynced, message: 'secret synced' },
  skipped: { reason: Reasons.SecretSynced, message: 'secret synced' },
  retained: { reason: Reasons.SecretSynced, message: 'secret retained due to DeletionPolicy=Retain' },
  deleted: { reason: Reasons.SecretDeleted, message: 'secret deleted due to DeletionPolicy=Delete' },
  missing: { reason: Reasons.SecretMissing, message: 'secret will not be created due to CreationPolicy=Merge' },
};

/** The ExternalSecret a status was for is gone, or was deleted and recreated (another uid). */
export class StatusTargetGone extends Error {
  override readonly name = 'StatusTargetGone';
}

/**
 * A JSON Patch whose first op tests the uid: the server applies it only to the object this sync
 * read, never to one deleted and recreated under the same name meanwhile (it answers 422). A
 * merge patch cannot say this: on the status subresource the server drops every metadata field
 * of the patch, a uid included, and applies the rest (seen on kube-apiserver 1.37). The status's
 * fields are set one by one (merge semantics) when the object has a status, as a whole when not.
 */
async function patchStatus(kube: KubeClients, es: ExternalSecret, status: ExternalSecretStatus): Promise<void> {
  const target: ObjectRef = {
    group: EXTERNAL_SECRETS_GROUP,
    version: EXTERNAL_SECRETS_VERSION,
    plural: PLURALS.ExternalSecret,
    namespace: es.metadata.namespace as string,
    name: es.metadata.name as string,
  };
  const fields = es.status
    ? Object.entries(status)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => ({ op: 'add', path: `/status/${key}`, value: value as unknown }))
    : [{ op: 'add', path: '/status', value: status as unknown }];
  try {
    const path = `${externalSecretsPath(target.plural, target.namespace, target.name)}/status`;
    await writeObject(kube.kc, 'PATCH', path, [{ op: 'test', path: '/metadata/uid', value: es.metadata.uid }, ...fields], 'application/json-patch+json');
  } catch (e) {
    if (isNotFound(e)) throw new StatusTargetGone(`ExternalSecret "${target.namespace}/${target.name}" was deleted`);
    // 422 is also what an invalid status gets: only a changed uid makes it "gone".
    if (statusCodeOf(e) === 422 && !(await stillThere(kube, target, es.metadata.uid))) {
      throw new StatusTargetGone(`ExternalSecret "${target.namespace}/${target.name}" was deleted and recreated`);
    }
    throw e;
  }
}

/** The ExternalSecret a status write is for, as the custom objects API names it. */
interface ObjectRef {
  group: string;
  version: string;
  plural: string;
  namespace: string;
  name: string;
}

async function stillThere(kube: KubeClients, target: ObjectRef, uid: string | undefined): Promise<boolean> {
  try {
    const current = (await kube.custom.getNamespacedCustomObject(target)) as { metadata?: { uid?: string } };
    return current.metadata?.uid === uid;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

/**
 * Synced, and if the planner had to place this sync after its deadline (the whole budget was
 * used), a second condition says so: Herdless degrades late, in deadline order, never silently.
 */
export async function markSynced(
  kube: KubeClients,
  es: ExternalSecret,
  now: Date,
  late?: { plannedAt: number; deadline: number },
  applied: ApplyResult = 'updated',
): Promise<void> {
  const previous = readyConditionOf(es);
  const { reason, message } = SYNCED_CONDITION[applied];
  const conditions = [nextReadyCondition(previous, 'True', reason, message, now)];
  if (late) {
    conditions.push({
      type: 'OnSchedule',
      status: 'False',
      reason: Reasons.DeadlineMissed,
      message: `planned ${Math.round((late.plannedAt - late.deadline) / 1000)} s after its refresh deadline: the provider budget was fully used`,
      lastTransitionTime: toKubeTime(now.getTime()),
    });
  }
  await patchStatus(kube, es, {
    refreshTime: toKubeTime(now.getTime()),
    syncedResourceVersion: syncedResourceVersionOf(es),
    binding: { name: targetSecretName(es) },
    failedAttempts: 0,
    lastAttemptTime: toKubeTime(now.getTime()),
    conditions,
  });
}

export async function markFailed(kube: KubeClients, es: ExternalSecret, error: HerdlessError, now: Date): Promise<void> {
  const previous = readyConditionOf(es);
  await patchStatus(kube, es, {
    failedAttempts: (es.status?.failedAttempts ?? 0) + 1,
    lastAttemptTime: toKubeTime(now.getTime()),
    conditions: [nextReadyCondition(previous, 'False', error.reason, error.message, now)],
  });
}
