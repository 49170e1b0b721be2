// ESO's metrics under ESO's names, labels and meaning (external-secrets v0.20.4:
// pkg/controllers/externalsecret/esmetrics/esmetrics.go, pkg/metrics/metrics.go), beside Herdless's
// own, so an ESO user's dashboards and alerts keep working after the move. ESO labels four of them
// per object (name, namespace); those series are switchable off (`objectMetrics`), which keeps the
// label names with empty values: one series per metric, and sums over objects stay right.
import { Counter, Gauge, register } from 'prom-client';
import type { KubernetesObject } from '@kubernetes/client-node';

/** Herdless's count of requests a store answered; ESO's provider_api_calls_count is read from it. */
export const PROVIDER_REQUESTS_METRIC = 'herdless_provider_requests_total';

/** ESO's provider names (pkg/constants: ProviderAWSSM, ProviderAWSPS) for our provider types. */
const ESO_PROVIDER: Record<string, string> = { 'aws-sm': 'AWS/SecretsManager', 'aws-ps': 'AWS/ParameterStore' };

/** ESO's `status` label: any error reply, throttling included, is "error" (deriveStatus: err != nil). */
const ESO_STATUS: Record<string, string> = { ok: 'success', throttled: 'error', error: 'error' };

let objectLabels = true;

/** Per-object series on (ESO's behaviour) or off (name and namespace left empty). */
export function setObjectMetrics(on: boolean): void {
  objectLabels = on;
}

function objectOf(namespace: string, name: string): { name: string; namespace: string } {
  return objectLabels ? { name, namespace } : { name: '', namespace: '' };
}

// ESO's help texts, word for word.
const syncCalls = new Counter({ name: 'externalsecret_sync_calls_total', help: 'Total number of the External Secret sync calls', labelNames: ['name', 'namespace'] });
const syncErrors = new Counter({ name: 'externalsecret_sync_calls_error', help: 'Total number of the External Secret sync errors', labelNames: ['name', 'namespace'] });
const reconcileDuration = new Gauge({ name: 'externalsecret_reconcile_duration', help: 'The duration time to reconcile the External Secret', labelNames: ['name', 'namespace'] });

/**
 * One sync pass of an ExternalSecret, as ESO counts one Reconcile: every pass counts a call, a pass
 * that ends in an error counts an error, and the duration gauge holds the last pass's duration in
 * nanoseconds (ESO sets `float64(time.Since(start))`, a time.Duration, which is nanoseconds).
 */
export function recordEsoSyncPass(namespace: string, name: string, durationMs: number, failed: boolean): void {
  const labels = objectOf(namespace, name);
  syncCalls.inc(labels);
  if (failed) syncErrors.inc(labels);
  reconcileDuration.set(labels, Math.round(durationMs * 1e6));
}

/**
 * externalsecret_provider_api_calls_count{provider,call,status}: one per request a store answered
 * (ESO's ObserveAPICall after each SDK call), read at scrape time from Herdless's own counter so
 * the two can never disagree.
 */
new Counter({
  name: 'externalsecret_provider_api_calls_count',
  help: 'Number of API calls towards the secret provider',
  labelNames: ['provider', 'call', 'status'],
  async collect() {
    const source = register.getSingleMetric(PROVIDER_REQUESTS_METRIC);
    this.reset();
    if (!source) return;
    for (const { labels, value } of (await source.get()).values) {
      const type = String(labels.provider_key ?? '').split('|')[0] ?? '';
      const provider = ESO_PROVIDER[type] ?? type;
      this.inc({ provider, call: String(labels.operation ?? ''), status: ESO_STATUS[String(labels.outcome)] ?? 'error' }, value);
    }
  },
});

interface ConditionLike {
  type?: string;
  status?: string;
}

let conditionSource: (() => Iterable<KubernetesObject> | undefined) | undefined;

/**
 * Where externalsecret_status_condition reads the ExternalSecrets from: the scheduler's informer
 * cache, while this replica leads (undefined otherwise), so one replica reports each object once
 * and a status written by any worker shows at the next scrape.
 */
export function setStatusConditionSource(source: (() => Iterable<KubernetesObject> | undefined) | undefined): void {
  conditionSource = source;
}

/**
 * externalsecret_status_condition{name,namespace,condition,status}: as ESO's
 * UpdateExternalSecretCondition, the Ready condition's current status is 1 and its opposite
 * (True/False) is 0. A deleted object has no series (ESO keeps a Deleted/False one).
 */
new Gauge({
  name: 'externalsecret_status_condition',
  help: 'The status condition of a specific External Secret',
  labelNames: ['name', 'namespace', 'condition', 'status'],
  collect() {
    this.reset();
    const objects = conditionSource?.();
    if (!objects) return;
    for (const obj of objects) {
      const conditions = ((obj as { status?: { conditions?: ConditionLike[] } }).status?.conditions ?? []).filter((c) => c.type === 'Ready');
      for (const c of conditions) {
        const labels = { ...objectOf(obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''), condition: 'Ready' };
        const opposite = c.status === 'True' ? 'False' : c.status === 'False' ? 'True' : undefined;
        this.inc({ ...labels, status: c.status ?? 'Unknown' }, 1);
        if (opposite) this.inc({ ...labels, status: opposite }, 0);
      }
    }
  },
});
