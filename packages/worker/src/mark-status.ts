// The ExternalSecret's status is the durable record of the sync: refreshTime and
// syncedResourceVersion on success, the Ready condition always, attempts on failure.
import {
  EXTERNAL_SECRETS_GROUP,
  EXTERNAL_SECRETS_VERSION,
  mergePatch,
  nextReadyCondition,
  PLURALS,
  readyConditionOf,
  Reasons,
  syncedResourceVersionOf,
  targetSecretName,
  toKubeTime,
  type ExternalSecret,
  type ExternalSecretStatus,
  type HerdlessError,
  type KubeClients,
} from '@herdless/core';

async function patchStatus(kube: KubeClients, es: ExternalSecret, status: ExternalSecretStatus): Promise<void> {
  await kube.custom.patchNamespacedCustomObjectStatus(
    {
      group: EXTERNAL_SECRETS_GROUP,
      version: EXTERNAL_SECRETS_VERSION,
      plural: PLURALS.ExternalSecret,
      namespace: es.metadata.namespace as string,
      name: es.metadata.name as string,
      // The uid precondition makes a patch for a deleted-and-recreated object fail (409).
      body: { metadata: { uid: es.metadata.uid }, status },
    },
    mergePatch,
  );
}

/**
 * Synced, and if the planner had to place this sync after its deadline (the whole budget was
 * used), a second condition says so: Herdless degrades late, in deadline order, never silently.
 */
export async function markSynced(kube: KubeClients, es: ExternalSecret, now: Date, late?: { plannedAt: number; deadline: number }): Promise<void> {
  const previous = readyConditionOf(es);
  const conditions = [nextReadyCondition(previous, 'True', Reasons.SecretSynced, 'secret synced', now)];
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
