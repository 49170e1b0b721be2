// What the processes say they asked a store is what the store answered: after a small storm
// (coalescing and batching on, the endpoint throttling a too-high budget and failing a share of
// requests with 500s), the sum of every process's /metrics equals our AWS endpoint's own request
// counters, per operation and outcome, under Herdless's names and under ESO's
// (externalsecret_provider_api_calls_count{provider,call,status}, ESO's providers and statuses).
// ESO's per-object metrics count every ExternalSecret's passes, and the scheduler reports each
// one's Ready condition as ESO does (the status 1, its opposite 0).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARAMETER_STORE_THROUGHPUT_OPERATIONS } from '@herdless/lab';
import { createExternalSecret, eventually, listExternalSecrets } from '../e2e/support/kube.js';
import { metricValue, startSecurityEnv, type SecurityEnv } from '../security/support/security-env.js';

const SM_COUNT = 200;
const SM_DISTINCT = 100;
const PS_COUNT = 40;
const PS_DISTINCT = 20;

let env: SecurityEnv;
let ns: string;
const names: string[] = [];

beforeAll(async () => {
  // The endpoint allows 1 BatchGetSecretValue a second; the budget says 20: the store throttles
  // the five or more batches a pass of 100 distinct ids makes.
  env = await startSecurityEnv('metrics', { quotas: { BatchGetSecretValue: { rps: 1, burst: 1 } } });
  ns = await env.namespace('tenant');
  await env.credentialsSecret(ns, 'aws-creds', 'AKIDMETRICS');
  await env.awsStore({ kind: 'SecretStore', name: 'sm', namespace: ns, secretRef: { name: 'aws-creds' } });
  await env.awsStore({ kind: 'SecretStore', name: 'ps', namespace: ns, service: 'ParameterStore', secretRef: { name: 'aws-creds' } });
  for (let k = 0; k < SM_DISTINCT; k++) env.aws.putSecret({ name: `metrics/s-${k}`, secretString: `sm-value-${k}` });
  for (let k = 0; k < PS_DISTINCT; k++) env.aws.putParameter({ name: `/metrics/p-${k}`, value: `ps-value-${k}`, type: 'SecureString' });
  // Parameter Store answers 500 until the first one has been answered (a transient error: the
  // pass fails, the job retries); the test lifts the fault then.
  env.aws.faults.update({ errorRate: 1, operations: ['GetParameters'] });
  await env.startHerdless({
    workers: 2,
    commonArgs: ['--budgets', 'aws-sm=20,aws-sm.BatchGetSecretValue=20,aws-ps=20'],
    workerArgs: ['--batching', 'always', '--coalesce-window-ms', '2000'],
  });
  const creates: Promise<unknown>[] = [];
  const add = (name: string, store: string, key: string) => {
    names.push(name);
    creates.push(createExternalSecret(env.admin, ns, name, { refreshInterval: '1h', secretStoreRef: { name: store, kind: 'SecretStore' }, data: [{ secretKey: 'value', remoteRef: { key } }] }));
  };
  for (let i = 0; i < SM_COUNT; i++) add(`sm-${i}`, 'sm', `metrics/s-${i % SM_DISTINCT}`);
  for (let i = 0; i < PS_COUNT; i++) add(`ps-${i}`, 'ps', `/metrics/p-${i % PS_DISTINCT}`);
  await Promise.all(creates);
  await eventually('a 500 answered', 120_000, async () => (env.aws.counts().GetParameters?.error ? true : undefined));
  env.aws.faults.update({ errorRate: 0 });
}, 300_000);

afterAll(async () => {
  await env?.stop();
});

async function scrapes(): Promise<string[]> {
  return [await env.schedulerMetrics(), ...(await env.workerMetrics())];
}
const sum = (texts: string[], name: string, labels: Record<string, string> = {}) => texts.reduce((n, t) => n + metricValue(t, name, labels), 0);

describe('after a small storm', () => {
  it("every process's /metrics agrees with the endpoint's counters, under Herdless's and ESO's names", async () => {
    await eventually('every ExternalSecret Ready', 240_000, async () => {
      const list = await listExternalSecrets(env.admin, ns);
      return list.length === names.length && list.every((e) => e.ready === 'True') ? list : undefined;
    }, 500);
    // Every answered request is counted once its reply is back in the worker: wait for the
    // totals to meet (no request is in flight once every object is Ready), then compare each cell.
    const endpointTotal = () => env.aws.requests().length;
    const texts = await eventually('the scrape to count every answered request', 60_000, async () => {
      const t = await scrapes();
      return sum(t, 'herdless_provider_requests_total') === endpointTotal() ? t : undefined;
    });
    const counts = env.aws.counts();
    // Secrets Manager: per operation the call path sent (GetSecretValue for a lone id, else
    // BatchGetSecretValue) and outcome, under both names.
    const smOperations = Object.keys(counts).filter((op) => !PARAMETER_STORE_THROUGHPUT_OPERATIONS.includes(op as never));
    expect(smOperations).toContain('BatchGetSecretValue');
    for (const operation of smOperations) {
      const c = counts[operation]!;
      for (const outcome of ['ok', 'throttled', 'error'] as const) {
        expect(sum(texts, 'herdless_provider_requests_total', { operation, outcome }), `${operation} ${outcome}`).toBe(c[outcome]);
      }
      const eso = { provider: 'AWS/SecretsManager', call: operation };
      expect(sum(texts, 'externalsecret_provider_api_calls_count', { ...eso, status: 'success' }), `${operation} success`).toBe(c.ok);
      expect(sum(texts, 'externalsecret_provider_api_calls_count', { ...eso, status: 'error' }), `${operation} error`).toBe(c.throttled + c.error);
    }
    // Parameter Store: per API call (GetParameter, GetParameters, …), though the calls share one
    // quota bucket (ParameterStoreRead), under both names.
    const ps = env.aws.counts({ operations: PARAMETER_STORE_THROUGHPUT_OPERATIONS });
    expect(Object.keys(ps)).toContain('GetParameters');
    for (const [operation, c] of Object.entries(ps)) {
      for (const outcome of ['ok', 'throttled', 'error'] as const) {
        expect(sum(texts, 'herdless_provider_requests_total', { operation, outcome }), `${operation} ${outcome}`).toBe(c[outcome]);
      }
      const eso = { provider: 'AWS/ParameterStore', call: operation };
      expect(sum(texts, 'externalsecret_provider_api_calls_count', { ...eso, status: 'success' }), `${operation} success`).toBe(c.ok);
      expect(sum(texts, 'externalsecret_provider_api_calls_count', { ...eso, status: 'error' }), `${operation} error`).toBe(c.throttled + c.error);
    }
    expect(sum(texts, 'herdless_provider_requests_total', { operation: 'ParameterStoreRead' })).toBe(0);
    // The storm exercised every outcome, or the agreement above would prove less than it says.
    expect(counts.BatchGetSecretValue!.throttled).toBeGreaterThan(0);
    expect(Object.values(counts).reduce((n, c) => n + c.error, 0)).toBeGreaterThan(0);

    // ESO's per-object metrics: each object's passes counted, its failed passes as errors, and
    // its Ready condition reported by the scheduler as ESO does.
    const failed = sum(texts, 'herdless_syncs_total', { result: 'failed' });
    expect(failed).toBeGreaterThan(0);
    expect(sum(texts, 'externalsecret_sync_calls_error')).toBe(failed);
    const scheduler = texts[0]!;
    for (const name of names) {
      expect(sum(texts, 'externalsecret_sync_calls_total', { name, namespace: ns }), name).toBeGreaterThanOrEqual(1);
      expect(metricValue(scheduler, 'externalsecret_status_condition', { name, namespace: ns, condition: 'Ready', status: 'True' }), name).toBe(1);
      expect(scheduler).toContain(`externalsecret_status_condition{name="${name}",namespace="${ns}",condition="Ready",status="False"} 0`);
    }
    // The operator's own: one leader, the queues' depth by lane, and every pass timed.
    expect(metricValue(scheduler, 'herdless_leader')).toBe(1);
    expect(scheduler).toMatch(/^herdless_queue_jobs\{shard="default",state="delayed"\} \d+$/m);
    expect(scheduler).toMatch(/^herdless_queue_ready_jobs\{shard="default",lane="spec"\} \d+$/m);
    expect(sum(texts, 'herdless_sync_duration_seconds_count')).toBe(sum(texts, 'externalsecret_sync_calls_total'));
    expect(sum(texts, 'herdless_spec_to_ready_seconds_count', { reason: 'new' })).toBeGreaterThan(0);

    // Every metric the dashboard and the alert rules query is one some process serves.
    const served = new Set(texts.flatMap((t) => [...t.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap((m) => (m[2] === 'histogram' ? [`${m[1]}_bucket`, `${m[1]}_count`, `${m[1]}_sum`] : [m[1] as string]))));
    const queried = new Set<string>();
    for (const file of ['../../deploy/dashboards/herdless.json', '../../deploy/alerts/herdless-rules.yaml']) {
      for (const m of readFileSync(new URL(file, import.meta.url), 'utf8').matchAll(/\b((?:herdless|externalsecret)_[a-z_]+)\b/g)) queried.add(m[1] as string);
    }
    expect(queried.size).toBeGreaterThan(15);
    expect([...queried].filter((name) => !served.has(name))).toEqual([]);
  });
});
