// One trace per sync across processes: with OTEL_* set, the scheduler's planning decision and
// enqueue, and a worker's pass with its Secret write and status write, arrive at an OTLP/HTTP
// receiver as one trace, each span the child of the one before, the worker's pass joined through
// the job's `traceparent`. No span carries the remote value. Without OTEL_* nothing is exported
// (the processes of every other suite).
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { freeLoopbackPort } from '@herdless/lab';
import { createExternalSecret, eventually, listExternalSecrets } from '../e2e/support/kube.js';
import { startSecurityEnv, type SecurityEnv } from '../security/support/security-env.js';

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
}

const VALUE = 'traced-value-never-exported-7f3a';
let env: SecurityEnv;
let receiver: Server;
const spans: ReceivedSpan[] = [];
const bodies: string[] = [];

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
const valueOf = (v: OtlpValue) => v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue;

function collect(body: string): void {
  bodies.push(body);
  const doc = JSON.parse(body) as {
    resourceSpans?: Array<{
      resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
      scopeSpans?: Array<{ spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: Array<{ key: string; value: OtlpValue }> }> }>;
    }>;
  };
  for (const rs of doc.resourceSpans ?? []) {
    const service = String(valueOf(rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value ?? {}) ?? '');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          service,
          traceId: s.traceId,
          spanId: s.spanId,
          ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
          name: s.name,
          attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, valueOf(a.value)])),
        });
      }
    }
  }
}

beforeAll(async () => {
  const port = await freeLoopbackPort();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') collect(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
  env = await startSecurityEnv('tracing');
  const ns = await env.namespace('tenant');
  await env.credentialsSecret(ns, 'aws-creds', 'AKIDTRACING');
  await env.awsStore({ kind: 'SecretStore', name: 'aws', namespace: ns, secretRef: { name: 'aws-creds' } });
  env.aws.putSecret({ name: 'tracing/app', secretString: VALUE });
  await env.startHerdless({
    workers: 2,
    commonArgs: ['--watch-namespace', ns],
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
  await createExternalSecret(env.admin, ns, 'app', {
    refreshInterval: '1h',
    secretStoreRef: { name: 'aws', kind: 'SecretStore' },
    data: [{ secretKey: 'value', remoteRef: { key: 'tracing/app' } }],
  });
  await eventually('app Ready', 120_000, async () => ((await listExternalSecrets(env.admin, ns)).find((e) => e.name === 'app' && e.ready === 'True') ? true : undefined));
}, 300_000);

afterAll(async () => {
  await env?.stop();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

test("a sync's trace runs from the scheduler's decision through a worker's pass to the status write", async () => {
  const byName = (name: string) => spans.find((s) => s.name === name && s.attributes['herdless.name'] === 'app');
  const sync = await eventually('the worker pass exported', 60_000, async () => byName('herdless.sync'));
  const inTrace = () => spans.filter((s) => s.traceId === sync.traceId);
  const trace = await eventually('the whole trace exported', 60_000, async () => {
    const t = inTrace();
    return ['herdless.plan', 'herdless.enqueue', 'herdless.sync', 'herdless.secret_write', 'herdless.status_write'].every((n) => t.some((s) => s.name === n)) ? t : undefined;
  });
  const one = (name: string) => {
    const found = trace.filter((s) => s.name === name);
    expect(found, name).toHaveLength(1);
    return found[0] as ReceivedSpan;
  };
  const plan = one('herdless.plan');
  const enqueue = one('herdless.enqueue');
  expect(plan.service).toBe('herdless-scheduler');
  expect(plan.parentSpanId).toBeUndefined();
  expect(plan.attributes).toMatchObject({ 'herdless.reason': 'new', 'herdless.lane': 1 });
  expect(enqueue.service).toBe('herdless-scheduler');
  expect(enqueue.parentSpanId).toBe(plan.spanId);
  expect(sync.service).toBe('herdless-worker');
  expect(sync.parentSpanId).toBe(enqueue.spanId);
  expect(sync.attributes['herdless.result']).toBe('created');
  expect(one('herdless.secret_write').parentSpanId).toBe(sync.spanId);
  expect(one('herdless.secret_write').attributes['herdless.result']).toBe('created');
  expect(one('herdless.status_write').parentSpanId).toBe(sync.spanId);
  for (const body of bodies) expect(body).not.toContain(VALUE);
});
