// One trace per sync across processes, stored in a real Jaeger (v1.75.0, memory storage): the
// scheduler and two workers (the production bundle, separate processes) export OTLP to it while
// a small storm of ExternalSecrets is created; for the one created in the middle of it, Jaeger's
// query API returns one trace that runs from the scheduler's decision and enqueue to a worker's
// pass, its provider call (a child of the pass) with the limiter's wait under it, and its Secret
// and status writes. Then every span Jaeger stored, every metric sample, every Event and every
// log line of the run is searched for the remote values it created: none is there.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startJaeger, type JaegerProcess, type StoredSpan } from '@herdless/lab';
import { createExternalSecret, eventually, listExternalSecrets } from '../e2e/support/kube.js';
import { startSecurityEnv, type SecurityEnv } from '../security/support/security-env.js';

const STORM = 40;
let jaeger: JaegerProcess;
let env: SecurityEnv;
let ns: string;
/** Every remote value the run created (and the JSON one's property value). */
const values: string[] = [];
const valueOf = (label: string) => {
  const v = `${label}-${randomBytes(8).toString('hex')}`;
  values.push(v);
  return v;
};

beforeAll(async () => {
  jaeger = await startJaeger();
  env = await startSecurityEnv('tracing');
  ns = await env.namespace('tenant');
  await env.credentialsSecret(ns, 'aws-creds', 'AKIDTRACING');
  await env.awsStore({ kind: 'SecretStore', name: 'aws', namespace: ns, secretRef: { name: 'aws-creds' } });
  for (let i = 0; i < STORM; i++) env.aws.putSecret({ name: `tracing/storm-${i}`, secretString: valueOf('storm-value') });
  env.aws.putSecret({ name: 'tracing/app', secretString: valueOf('app-value') });
  // A JSON value whose read by a missing property fails: the failure is an Event and a log line.
  env.aws.putSecret({ name: 'tracing/json', secretString: JSON.stringify({ password: valueOf('json-value') }) });
  await env.startHerdless({
    workers: 2,
    // A budget the storm fills, so calls wait for the limiter; no batching, so the traced
    // ExternalSecret's read is a call of its own pass.
    // The endpoint by --otel-endpoint (OTEL_EXPORTER_OTLP_ENDPOINT is read the same way: core's
    // config tests); the SDK's own tuning by its variable.
    commonArgs: ['--watch-namespace', ns, '--budgets', 'aws-sm=10', '--otel-endpoint', jaeger.otlpHttpEndpoint],
    workerArgs: ['--batching', 'never'],
    env: { OTEL_BSP_SCHEDULE_DELAY: '100' },
  });
  const spec = (key: string, property?: string) => ({
    refreshInterval: '1h',
    secretStoreRef: { name: 'aws', kind: 'SecretStore' },
    data: [{ secretKey: 'value', remoteRef: { key, ...(property ? { property } : {}) } }],
  });
  const creates: Promise<unknown>[] = [];
  for (let i = 0; i < STORM; i++) {
    creates.push(createExternalSecret(env.admin, ns, `storm-${i}`, spec(`tracing/storm-${i}`)));
    if (i === STORM / 2) creates.push(createExternalSecret(env.admin, ns, 'app', spec('tracing/app')));
  }
  creates.push(createExternalSecret(env.admin, ns, 'json-ok', spec('tracing/json', 'password')));
  creates.push(createExternalSecret(env.admin, ns, 'json-missing', spec('tracing/json', 'missing')));
  await Promise.all(creates);
  await eventually('every ExternalSecret in its final state', 180_000, async () => {
    const list = await listExternalSecrets(env.admin, ns);
    const settled = list.filter((e) => (e.name === 'json-missing' ? e.ready === 'False' : e.ready === 'True'));
    return settled.length === STORM + 3 ? list : undefined;
  }, 500);
}, 300_000);

afterAll(async () => {
  await env?.stop();
  await jaeger?.stop();
});

test("a sync's trace in Jaeger runs from the scheduler's decision through a worker's pass, its provider call and the limiter's wait", async () => {
  const trace = await eventually('the whole trace of app stored in Jaeger', 60_000, async () => {
    const [found] = await jaeger.query.traces('herdless-worker', { operation: 'herdless.sync', tags: { 'herdless.name': 'app' } });
    const whole = found && (await jaeger.query.trace(found.traceId));
    const names = new Set(whole?.spans.map((s) => s.name));
    const complete = ['herdless.plan', 'herdless.enqueue', 'herdless.sync', 'herdless.provider_call', 'herdless.limiter_wait', 'herdless.secret_write', 'herdless.status_write'];
    return whole && complete.every((n) => names.has(n)) ? whole : undefined;
  });
  const spans = trace.spans;
  const childrenOf = (parent: StoredSpan, name: string) => spans.filter((s) => s.parentSpanId === parent.spanId && s.name === name);
  const only = (found: StoredSpan[], what: string) => {
    expect(found, what).toHaveLength(1);
    return found[0] as StoredSpan;
  };
  // One trace, from two processes: the scheduler's root and a worker's pass.
  expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([trace.traceId]));
  expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['herdless-scheduler', 'herdless-worker']));
  const plan = only(spans.filter((s) => s.name === 'herdless.plan'), 'plan');
  expect(plan.service).toBe('herdless-scheduler');
  expect(plan.parentSpanId).toBeUndefined();
  expect(plan.attributes).toMatchObject({ 'herdless.reason': 'new', 'herdless.lane': 1 });
  const enqueue = only(childrenOf(plan, 'herdless.enqueue'), 'enqueue under plan');
  expect(enqueue.service).toBe('herdless-scheduler');
  // A pass the limiter deferred (the storm fills the budget) is a sibling under the same enqueue:
  // the job keeps its traceparent. The pass that wrote the Secret is the one walked.
  const passes = childrenOf(enqueue, 'herdless.sync');
  const sync = only(passes.filter((s) => s.attributes['herdless.result'] === 'created'), 'the pass that created the Secret');
  expect(sync.service).toBe('herdless-worker');
  expect(sync.attributes).toMatchObject({ 'herdless.namespace': ns, 'herdless.name': 'app', 'herdless.reason': 'new' });
  const call = only(childrenOf(sync, 'herdless.provider_call'), 'provider call under the pass');
  expect(call.service).toBe('herdless-worker');
  expect(call.attributes).toMatchObject({ 'herdless.operation': 'GetSecretValue', 'herdless.quota_bucket': 'GetSecretValue', 'herdless.lane': 'urgent', 'herdless.outcome': 'ok' });
  const wait = only(childrenOf(call, 'herdless.limiter_wait'), 'limiter wait under the call');
  expect(['now', 'waited', 'booked']).toContain(wait.attributes['herdless.limiter.decision']);
  expect(typeof wait.attributes['herdless.limiter.wait_ms']).toBe('number');
  expect(wait.attributes['herdless.limiter.wait_ms']).toBe(call.attributes['herdless.limiter.wait_ms']);
  expect(only(childrenOf(sync, 'herdless.secret_write'), 'Secret write').attributes['herdless.result']).toBe('created');
  only(childrenOf(sync, 'herdless.status_write'), 'status write');
});

test('no span Jaeger stored, metric sample, Event or log line of the run holds a remote value', async () => {
  // What is searched, each shown to hold what a leak would sit beside.
  const spans = await eventually('the failed pass stored in Jaeger', 60_000, async () => {
    const text = await jaeger.query.exportedText();
    return text.includes('json-missing') && text.includes('herdless.provider_call') ? text : undefined;
  });
  const metrics = [await env.schedulerMetrics(), ...(await env.workerMetrics())].join('\n');
  expect(metrics).toContain('externalsecret_provider_api_calls_count');
  const events = await eventually('the failure Event', 60_000, async () => {
    const list = await env.admin.core.listNamespacedEvent({ namespace: ns });
    return list.items.some((e) => e.involvedObject.name === 'json-missing' && e.reason === 'UpdateFailed') ? JSON.stringify(list.items) : undefined;
  });
  const logs = env.output();
  expect(logs).toContain('json-missing');
  for (const [what, text] of [['spans', spans], ['metrics', metrics], ['Events', events], ['logs', logs]] as const) {
    expect(values.filter((v) => text.includes(v)), what).toEqual([]);
  }
});
