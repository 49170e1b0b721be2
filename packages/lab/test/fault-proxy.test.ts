// The fault proxy in front of the real API server (TLS both ways, the admin's client
// certificate re-originated upstream) and in front of our AWS endpoint: every fault is seen by
// the real clients as the real failure would be, and the control endpoint drives the same
// faults over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startAwsEndpoint, waitUntil, type AwsEndpoint } from '@herdless/lab';
import { startFaultProxy, startKubeconfigProxy, type KubeconfigProxy } from '../src/fault-proxy/index.js';
import { adminKubeConfig, createNamespace, deleteNamespace, injected, uniqueNamespace } from '../../../test/support/index.js';

let kube: KubeconfigProxy;
let core: CoreV1Api;
let namespace: string;

beforeAll(async () => {
  kube = await startKubeconfigProxy({ kubeconfigPath: injected('kubeconfigPath'), outPath: `${injected('controlPlaneDir')}/fault-proxy-test.kubeconfig` });
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  namespace = await createNamespace(adminKubeConfig(), uniqueNamespace('fault-proxy'));
});

afterAll(async () => {
  await kube?.stop();
  if (namespace) await deleteNamespace(adminKubeConfig(), namespace);
});

function proxiedKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  return kc;
}

interface WatchRun {
  events: { type: string; object: { code?: number; reason?: string; metadata?: { name?: string } } }[];
  done: Promise<unknown>;
  controller: AbortController;
}

async function watchConfigMaps(): Promise<WatchRun> {
  const events: WatchRun['events'] = [];
  let finished!: (err: unknown) => void;
  const done = new Promise<unknown>((resolve) => (finished = resolve));
  const controller = await new Watch(proxiedKubeConfig()).watch(
    `/api/v1/namespaces/${namespace}/configmaps`,
    { resourceVersion: '0' },
    (type, object) => events.push({ type, object }),
    (err) => finished(err ?? null),
  );
  return { events, done, controller };
}

/** Waits until `check` passes (its last failure is the timeout's message). */
async function eventually(check: () => void | Promise<void>, timeoutMs = 10_000): Promise<void> {
  await waitUntil(
    async () => {
      await check();
      return true;
    },
    { what: 'the check to pass', timeoutMs, intervalMs: 50 },
  );
}

async function statusOf(p: Promise<unknown>): Promise<{ code?: number; body?: string; headers?: Record<string, string> }> {
  try {
    await p;
    return { code: 200 };
  } catch (e) {
    const err = e as { code?: number; body?: unknown; headers?: Record<string, string> };
    return { ...(err.code !== undefined ? { code: err.code } : {}), body: typeof err.body === 'string' ? err.body : JSON.stringify(err.body), ...(err.headers ? { headers: err.headers } : {}) };
  }
}

describe('fault proxy in front of the API server', () => {
  it('passes requests through untouched when no fault is set (TLS to the proxy, client certificate upstream)', async () => {
    kube.proxy.reset();
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'through-proxy' }, data: { a: '1' } } });
    const read = await core.readNamespacedConfigMap({ namespace, name: 'through-proxy' });
    expect(read.data).toEqual({ a: '1' });
    expect(kube.proxy.stats().forwarded).toBeGreaterThanOrEqual(2);
  });

  it('answers a share of requests with 500 and 429 (Retry-After) as Kubernetes Status objects', async () => {
    kube.proxy.set({ errorRate: 1 });
    const failed = await statusOf(core.listNamespacedConfigMap({ namespace }));
    expect(failed.code).toBe(500);
    expect(JSON.parse(failed.body!)).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });
    kube.proxy.set({ errorRate: 0, throttleRate: 1, retryAfterSeconds: 3 });
    const throttled = await statusOf(core.listNamespacedConfigMap({ namespace }));
    expect(throttled.code).toBe(429);
    expect(JSON.parse(throttled.body!)).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', details: { retryAfterSeconds: 3 } });
    expect(throttled.headers?.['retry-after']).toBe('3');
    kube.proxy.set({ throttleRate: 0.5, scope: 'watches' });
    // Out of scope: only watches are throttled now.
    expect((await statusOf(core.listNamespacedConfigMap({ namespace }))).code).toBe(200);
    kube.proxy.reset();
  });

  it('answers the next watch with 410 Expired, as an ERROR event or as an HTTP 410', async () => {
    kube.proxy.reset();
    kube.proxy.expireNextWatches(1);
    const first = await watchConfigMaps();
    await first.done;
    expect(first.events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);

    kube.proxy.expireNextWatches(1, 'status');
    const second = await watchConfigMaps();
    expect(await second.done).toMatchObject({ statusCode: 410 });
    expect(kube.proxy.stats().expiredWatches).toBe(2);

    // The count is used up: the next watch streams from the server.
    const third = await watchConfigMaps();
    await eventually(() => expect(third.events.some((e) => e.type === 'ADDED')).toBe(true));
    third.controller.abort();
  });

  it('cuts open watch streams mid-flight', async () => {
    kube.proxy.reset();
    const run = await watchConfigMaps();
    await eventually(() => expect(kube.proxy.stats().openWatches).toBe(1));
    expect(kube.proxy.cutWatches()).toBe(1);
    const err = await run.done;
    expect(err).toBeTruthy();
    // Plain requests still work.
    expect((await statusOf(core.listNamespacedConfigMap({ namespace }))).code).toBe(200);
  });

  it('holds requests while paused and lets them through on resume', async () => {
    kube.proxy.reset();
    kube.proxy.pause();
    let answered = false;
    const pending = core.readNamespacedConfigMap({ namespace, name: 'through-proxy' }).then((cm) => {
      answered = true;
      return cm;
    });
    await eventually(() => expect(kube.proxy.stats().held).toBe(1));
    // The API server answers a read sent after it, straight: the held one would have been
    // answered by now had it gone through.
    expect((await adminKubeConfig().makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace, name: 'through-proxy' })).data).toEqual({ a: '1' });
    expect(answered).toBe(false);
    kube.proxy.resume();
    expect((await pending).data).toEqual({ a: '1' });
  });

  it('partitions the process (requests hang, then are cut on heal; or reset at once) and heals', async () => {
    kube.proxy.reset();
    kube.proxy.partition('hang');
    const hung = statusOf(core.listNamespacedConfigMap({ namespace }));
    await eventually(() => expect(kube.proxy.stats().held).toBe(1));
    kube.proxy.heal();
    const result = await hung;
    expect(result.code).not.toBe(200);
    kube.proxy.partition('reset');
    const reset = await statusOf(core.listNamespacedConfigMap({ namespace }));
    expect(reset.code).not.toBe(200);
    kube.proxy.heal();
    expect((await statusOf(core.listNamespacedConfigMap({ namespace }))).code).toBe(200);
  });

  it('is driven by its HTTP control endpoint too', async () => {
    kube.proxy.reset();
    const control = kube.proxy.controlUrl!;
    const bad = await fetch(`${control}/faults`, { method: 'PUT', body: JSON.stringify({ errorRate: 2 }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ reason: 'InvalidFaultSettings', error: expect.stringContaining('errorRate') });
    const put = await fetch(`${control}/faults`, { method: 'PUT', body: JSON.stringify({ errorRate: 1, pathIncludes: '/configmaps' }) });
    expect(put.status).toBe(200);
    expect((await statusOf(core.listNamespacedConfigMap({ namespace }))).code).toBe(500);
    expect((await statusOf(core.readNamespace({ name: namespace }))).code).toBe(200);
    await fetch(`${control}/faults`, { method: 'DELETE' });
    const run = await watchConfigMaps();
    await eventually(() => expect(kube.proxy.stats().openWatches).toBe(1));
    const cut = (await (await fetch(`${control}/faults/cut-watches`, { method: 'POST' })).json()) as { cut: number };
    expect(cut.cut).toBe(1);
    await run.done;
    const state = (await (await fetch(`${control}/faults`)).json()) as { settings: { errorRate: number }; stats: { cutStreams: number } };
    expect(state.settings.errorRate).toBe(0);
    expect(state.stats.cutStreams).toBeGreaterThanOrEqual(1);
  });
});

describe('fault proxy in front of our AWS endpoint', () => {
  let aws: AwsEndpoint;
  beforeAll(async () => {
    aws = await startAwsEndpoint();
    aws.putSecret({ name: 'db', secretString: 'v' });
  });
  afterAll(async () => {
    await aws?.stop();
  });

  it('gives the AWS SDK AWS-shaped injected errors and added latency', async () => {
    const proxy = await startFaultProxy({ upstream: aws.url, flavor: 'aws', controlPort: false });
    try {
      const sm = new SecretsManagerClient({ endpoint: proxy.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
      expect((await sm.send(new GetSecretValueCommand({ SecretId: 'db' }))).SecretString).toBe('v');
      proxy.set({ errorRate: 1 });
      await expect(sm.send(new GetSecretValueCommand({ SecretId: 'db' }))).rejects.toMatchObject({ name: 'InternalServiceError', $metadata: { httpStatusCode: 500 } });
      proxy.set({ errorRate: 0, throttleRate: 1 });
      await expect(sm.send(new GetSecretValueCommand({ SecretId: 'db' }))).rejects.toMatchObject({ name: 'ThrottlingException' });
      proxy.set({ throttleRate: 0, latencyMs: 300 });
      const started = Date.now();
      await sm.send(new GetSecretValueCommand({ SecretId: 'db' }));
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      // Injected replies never reached the endpoint: it counted only the two forwarded calls.
      expect(aws.counts().GetSecretValue).toMatchObject({ ok: 2 });
      sm.destroy();
    } finally {
      await proxy.stop();
    }
  });
});
