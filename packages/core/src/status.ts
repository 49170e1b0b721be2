// Reading and writing what Kubernetes records about a sync: the Ready condition,
// refreshTime and syncedResourceVersion are the durable record (Kubernetes is the database).
import { parseGoDuration } from './duration.js';
import { Reasons, terminal } from './errors.js';
import type { Condition, ExternalSecret } from './resources.js';

/** ESO's annotations and labels on a target Secret, kept so tools that know ESO keep working. */
export const DATA_HASH_ANNOTATION = 'reconcile.external-secrets.io/data-hash';
export const MANAGED_LABEL = 'reconcile.external-secrets.io/managed';
/** Per-store override of the provider budget (requests per second). */
export const BUDGET_ANNOTATION = 'herdless.io/budget-rps';

export function readyConditionOf(es: ExternalSecret): Condition | undefined {
  return es.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isReady(es: ExternalSecret): boolean {
  return readyConditionOf(es)?.status === 'True';
}

/** Time of the last successful sync (epoch ms), if any. */
export function lastSyncMs(es: ExternalSecret): number | undefined {
  const t = es.status?.refreshTime;
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The refresh interval in ms; a bad value is a terminal InvalidRefreshInterval error. */
export function refreshIntervalMsOf(es: ExternalSecret): number {
  try {
    const ms = parseGoDuration(es.spec.refreshInterval);
    if (ms < 0) throw new Error(`expected a non-negative duration, found "${es.spec.refreshInterval}"`);
    return ms;
  } catch (e) {
    throw terminal(Reasons.InvalidRefreshInterval, `spec.refreshInterval: ${(e as Error).message}`, e);
  }
}

/** A Ready condition whose lastTransitionTime moves only when its status changes. */
export function nextReadyCondition(
  previous: Condition | undefined,
  status: 'True' | 'False',
  reason: string,
  message: string,
  now: Date,
): Condition {
  const lastTransitionTime =
    previous && previous.status === status && previous.lastTransitionTime ? previous.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { type: 'Ready', status, reason, message, lastTransitionTime };
}

/** Kubernetes metav1.Time has second precision; keep refreshTime in that form. */
export function toKubeTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** What the worker records as synced: the spec generation it rendered. */
export function syncedResourceVersionOf(es: ExternalSecret): string {
  return String(es.metadata.generation ?? 0);
}

/** True when the current spec generation has been synced successfully at least once. */
export function isSyncedAtCurrentGeneration(es: ExternalSecret): boolean {
  return isReady(es) && es.status?.syncedResourceVersion === syncedResourceVersionOf(es);
}
