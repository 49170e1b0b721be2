// The AWS auth real clusters use, end to end: a scheduler and a worker as separate processes
// with the chart's RBAC, our AWS endpoint's STS and per-role read policies, the control plane's
// ServiceAccount issuer registered as the endpoint's OpenID Connect provider (its JWKS). Stores
// with `role`, `additionalRoles` + `role` + `externalID`, `auth.jwt`, and the worker's ambient
// web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, a token minted here by TokenRequest)
// each sync; a role without permission for a key says AccessDenied and never gets the value;
// the 50 ExternalSecrets of one role store cost one AssumeRole per session window (the worker
// refreshes its session 30 s after it was issued here: 900 s minus a margin of 870 s); and no
// credential or token appears in Redis, the processes' output or the worker's metrics.
// One worker: sessions live in each worker's memory only, so N workers ask N times per window.
import { randomBytes } from 'node:crypto';
import { get } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestOptions } from 'node:https';
import type { JsonWebKey } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KubeConfig } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { DEFAULT_SHARD, syncQueueName } from '@herdless/core';
import { SERVICE_ACCOUNT_ISSUER } from '@herdless/lab';
import { waitUntil } from '../support/index.js';
import { createExternalSecret, createStore, eventually, listExternalSecrets, patchExternalSecretSpec } from './support/kube.js';
import { metricValue, startSecurityEnv, type SecurityEnv } from '../security/support/security-env.js';

const ROLE_STORE_EXTERNAL_SECRETS = 50;
/** STS's shortest session is 900 s; the worker refreshes 870 s before expiry: a 30 s window. */
const REFRESH_MARGIN_SECONDS = 870;
const WINDOW_MS = (900 - REFRESH_MARGIN_SECONDS) * 1000;

let env: SecurityEnv;
let ns: string;
let dir: string;
const run = randomBytes(3).toString('hex');
const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}-${run}`;
const READER = role('111111111111', 'reader');
const HOP = role('222222222222', 'hop');
const FINAL = role('333333333333', 'final');
const IRSA = role('444444444444', 'irsa');
const AMBIENT = role('555555555555', 'worker');
const BASE_KEY = `AKIDBASE${run.toUpperCase()}`;
const BASE_SECRET = `base-secret-${randomBytes(12).toString('hex')}`;
const EXTERNAL_ID = `ext-${run}`;
const values: Record<string, string> = Object.fromEntries(['role', 'forbidden', 'chain', 'jwt', 'ambient'].map((k) => [`auth/${k}-${run}`, `value-${k}-${randomBytes(8).toString('hex')}`]));
const key = (k: string) => `auth/${k}-${run}`;
let ambientToken = '';

const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

/** The API server's ServiceAccount issuer keys (/openid/v1/jwks), as an IAM OIDC provider fetches them. */
async function serviceAccountJwks(kc: KubeConfig): Promise<{ keys: JsonWebKey[] }> {
  const options: RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const url = new URL('/openid/v1/jwks', kc.getCurrentCluster()!.server);
  return new Promise((resolve, reject) => {
    get(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))) : reject(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

async function tokenFor(namespace: string, name: string, audiences: string[]): Promise<string> {
  const request = await env.admin.core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences, expirationSeconds: 3600 } } });
  return request.status!.token!;
}

const es = (store: string, remoteKey: string, refreshInterval = '1h') => ({
  refreshInterval,
  secretStoreRef: { name: store, kind: 'SecretStore' },
  data: [{ secretKey: 'value', remoteRef: { key: remoteKey } }],
});

const assumeRoles = (roleArn: string) => env.aws.requests({ operation: 'AssumeRole' }).filter((r) => r.roleArn === roleArn);

beforeAll(async () => {
  env = await startSecurityEnv('aws-auth');
  ns = await env.namespace('auth');
  dir = await mkdtemp(join(tmpdir(), 'herdless-aws-auth-'));
  for (const [name, value] of Object.entries(values)) env.aws.putSecret({ name, secretString: value });
  env.aws.declareRole({ roleArn: READER, mayRead: [key('role')], trustedPrincipals: [BASE_KEY] });
  env.aws.declareRole({ roleArn: HOP, mayRead: [], trustedPrincipals: [BASE_KEY] });
  env.aws.declareRole({ roleArn: FINAL, mayRead: [key('chain')], trustedPrincipals: [HOP], externalId: EXTERNAL_ID });
  env.aws.declareRole({ roleArn: IRSA, mayRead: [key('jwt')], webIdentity: { issuer: SERVICE_ACCOUNT_ISSUER, subjects: [`system:serviceaccount:${ns}:app`] } });
  const workerSa = `hl${env.run}-worker`;
  env.aws.declareRole({ roleArn: AMBIENT, mayRead: [key('ambient')], webIdentity: { issuer: SERVICE_ACCOUNT_ISSUER, subjects: [`system:serviceaccount:${env.systemNamespace}:${workerSa}`] } });
  env.aws.addOpenIdConnectProvider({ issuer: SERVICE_ACCOUNT_ISSUER, clientIds: ['sts.amazonaws.com'], jwks: await serviceAccountJwks(env.admin.kc) });

  await env.credentialsSecret(ns, 'aws-creds', BASE_KEY, BASE_SECRET);
  await env.admin.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'app', annotations: { 'eks.amazonaws.com/role-arn': IRSA } } } });
  // IRSA as EKS sets it up: the worker's own ServiceAccount token in a file, the role in the environment.
  await env.admin.core.createNamespacedServiceAccount({ namespace: env.systemNamespace, body: { metadata: { name: workerSa } } });
  ambientToken = await tokenFor(env.systemNamespace, workerSa, ['sts.amazonaws.com']);
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, ambientToken);

  const secretRef = { accessKeyIDSecretRef: { name: 'aws-creds', key: 'access-key-id' }, secretAccessKeySecretRef: { name: 'aws-creds', key: 'secret-access-key' } };
  const aws = (extra: Record<string, unknown>) => ({ provider: { aws: { service: 'SecretsManager', region: env.aws.region, ...extra } } });
  await createStore(env.admin, 'SecretStore', 'role', ns, aws({ auth: { secretRef }, role: READER }));
  await createStore(env.admin, 'SecretStore', 'chain', ns, aws({ auth: { secretRef }, additionalRoles: [HOP], role: FINAL, externalID: EXTERNAL_ID }));
  await createStore(env.admin, 'SecretStore', 'jwt', ns, aws({ auth: { jwt: { serviceAccountRef: { name: 'app' } } } }));
  await createStore(env.admin, 'SecretStore', 'ambient', ns, aws({}));

  for (let i = 0; i < ROLE_STORE_EXTERNAL_SECRETS; i++) await createExternalSecret(env.admin, ns, `role-${i}`, es('role', key('role')));
  await createExternalSecret(env.admin, ns, 'forbidden', es('role', key('forbidden')));
  await createExternalSecret(env.admin, ns, 'chain', es('chain', key('chain')));
  await createExternalSecret(env.admin, ns, 'jwt', es('jwt', key('jwt')));
  await createExternalSecret(env.admin, ns, 'ambient', es('ambient', key('ambient')));

  await env.startHerdless({
    workers: 1,
    workerArgs: ['--aws-session-refresh-margin-seconds', String(REFRESH_MARGIN_SECONDS)],
    workerEnv: { AWS_ROLE_ARN: AMBIENT, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile },
  });
}, 600_000);

/** The role-store ExternalSecrets a wait last saw behind, with their state (see afterEach). */
let behind: Array<{ name: string; ready?: string; reason?: string; refreshTime?: string }> = [];

// A wait that failed says why: what the queue holds for the ExternalSecrets still behind, what
// the scheduler and the worker logged about them (a failed sync names its ExternalSecret), and
// each process's last lines. Once seen (a full run, right after hostile-input) and not since.
afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail' || behind.length === 0 || !env) return;
  const names = new Set(behind.slice(0, 3).map((b) => b.name));
  const connection = env.redis.duplicate();
  const queue = new Queue(syncQueueName(DEFAULT_SHARD), { connection, prefix: env.queuePrefix });
  try {
    const jobs = (await queue.getJobs(['delayed', 'waiting', 'prioritized', 'active', 'failed'], 0, -1, true)).filter((j) => names.has((j?.data as { name?: string })?.name ?? ''));
    process.stderr.write(`\n--- ${behind.length} behind, first: ${JSON.stringify(behind.slice(0, 3))}\n--- their jobs: ${JSON.stringify(jobs.map((j) => ({ id: j.id, data: j.data, failedReason: j.failedReason })))}\n`);
  } finally {
    await queue.close();
    connection.disconnect();
  }
  for (const p of env.processes) {
    const all = p.output().split('\n');
    const lines = all.filter((l) => [...names].some((n) => l.includes(`"${n}"`)));
    process.stderr.write(`--- ${p.name} about them (last 40 of ${lines.length}) ---\n${lines.slice(-40).join('\n')}\n--- ${p.name}'s last 20 lines ---\n${all.slice(-20).join('\n')}\n`);
  }
});

afterAll(async () => {
  await env?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function valueOf(name: string): Promise<string | undefined> {
  const list = await env.admin.core.listNamespacedSecret({ namespace: ns });
  return unb64(list.items.find((s) => s.metadata?.name === name)?.data?.value);
}

describe('AWS auth: role, role chain with external ID, ServiceAccount token, ambient web identity', () => {
  it('every store syncs; the role without permission for a key says AccessDenied and never gets the value', async () => {
    // Settled: each in the state it ends in (a transient failure on the way, retried, is not the end).
    const expectedFalse = new Set(['forbidden']);
    const list = await eventually('every ExternalSecret settled', 180_000, async () => {
      const all = await listExternalSecrets(env.admin, ns);
      const settled = all.every((e) => (expectedFalse.has(e.name) ? e.ready === 'False' && e.reason === 'AccessDenied' : e.ready === 'True'));
      return all.length === ROLE_STORE_EXTERNAL_SECRETS + 4 && settled ? all : undefined;
    });
    const byName = new Map(list.map((e) => [e.name, e]));
    for (const name of ['chain', 'jwt', 'ambient', ...Array.from({ length: ROLE_STORE_EXTERNAL_SECRETS }, (_, i) => `role-${i}`)]) {
      expect(byName.get(name), name).toMatchObject({ ready: 'True' });
    }
    expect(await valueOf('role-0')).toBe(values[key('role')]);
    expect(await valueOf('chain')).toBe(values[key('chain')]);
    expect(await valueOf('jwt')).toBe(values[key('jwt')]);
    expect(await valueOf('ambient')).toBe(values[key('ambient')]);
    expect(byName.get('forbidden')).toMatchObject({ ready: 'False', reason: 'AccessDenied' });
    expect(byName.get('forbidden')?.message ?? '').not.toContain(values[key('forbidden')]);
    expect(await valueOf('forbidden')).toBeUndefined();

    // Each read was signed by its role's session: the chain's by the final role, assumed with the hop's session.
    // This test's reads: signed with the base key or a session this endpoint issued (another
    // suite's leftover ExternalSecrets, if any, sign with their own static keys).
    const reads = env.aws
      .requests()
      .filter((r) => (r.operation === 'GetSecretValue' || r.operation === 'BatchGetSecretValue') && (r.accessKeyId === BASE_KEY || r.accessKeyId?.startsWith('ASIA')));
    expect(new Set(reads.map((r) => r.roleArn))).toEqual(new Set([READER, FINAL, IRSA, AMBIENT]));
    expect(env.aws.requests({ operation: 'AssumeRole' }).filter((r) => r.roleArn === FINAL).every((r) => r.accessKeyId?.startsWith('ASIA'))).toBe(true);
    expect(env.aws.requests({ operation: 'AssumeRoleWithWebIdentity' }).map((r) => r.roleArn).sort()).toEqual([AMBIENT, IRSA].sort());
  });

  it(`${ROLE_STORE_EXTERNAL_SECRETS} ExternalSecrets on one role store: one AssumeRole, and one more once the session's window has passed`, async () => {
    const [first, ...others] = assumeRoles(READER);
    expect(others, 'every role-store ExternalSecret synced within the first session window').toHaveLength(0);
    expect(first).toMatchObject({ outcome: 'ok', accessKeyId: BASE_KEY });
    // The session's refresh point is a condition on the endpoint's clock, not a sleep of the test's.
    const issued = env.aws.sessions().find((s) => s.roleArn === READER)!;
    expect(issued.durationSeconds).toBe(900);
    await eventually('the first session is past its refresh point', WINDOW_MS + 60_000, async () => (Date.now() >= issued.expiresAtMs - REFRESH_MARGIN_SECONDS * 1000 ? true : undefined));
    const before = new Map((await listExternalSecrets(env.admin, ns)).map((e) => [e.name, e.refreshTime]));
    for (let i = 0; i < ROLE_STORE_EXTERNAL_SECRETS; i++) await patchExternalSecretSpec(env.admin, ns, `role-${i}`, { refreshInterval: '59m' });
    await waitUntil(
      async () => {
        const all = (await listExternalSecrets(env.admin, ns)).filter((e) => e.name.startsWith('role-'));
        behind = all.filter((e) => !(e.ready === 'True' && e.refreshTime !== before.get(e.name)));
        return behind.length === 0 ? true : undefined;
      },
      { what: 'every role-store ExternalSecret synced again', timeoutMs: 180_000, intervalMs: 250, lastSeen: () => `${behind.length} behind: ${JSON.stringify(behind.slice(0, 3))}` },
    );
    const calls = assumeRoles(READER);
    expect(calls).toHaveLength(2);
    // Not before the first session's refresh point (its expiry, which STS states to the second, minus the margin).
    expect(calls[1]?.atMs ?? 0).toBeGreaterThanOrEqual(issued.expiresAtMs - REFRESH_MARGIN_SECONDS * 1000);
    expect(calls.every((c) => c.outcome === 'ok' && c.accessKeyId === BASE_KEY)).toBe(true);
    // No read was refused for an expired or unknown session: every session was refreshed before it ran out.
    expect(env.aws.requests({ outcome: 'error' }).filter((r) => r.errorType === 'ExpiredTokenException' || r.errorType === 'UnrecognizedClientException')).toHaveLength(0);
  });

  it('no credential or token in Redis, the processes\' output or the worker\'s metrics', async () => {
    const secrets = [BASE_KEY, BASE_SECRET, ambientToken, ...env.aws.secretsOfSessions()];
    expect(secrets.length).toBeGreaterThan(8);
    const metrics = (await env.workerMetrics()).join('\n');
    const output = env.output();
    const redis = await redisDump(env);
    expect(redis.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(output.includes(secret), 'a credential in the processes\' output').toBe(false);
      expect(metrics.includes(secret), 'a credential in the metrics').toBe(false);
      expect(redis.includes(secret), 'a credential in Redis').toBe(false);
    }
    // The STS calls went through the worker's call path, in their own buckets.
    expect(metricValue(metrics, 'herdless_provider_requests_total', { operation: 'AssumeRole', outcome: 'ok' })).toBe(env.aws.requests({ operation: 'AssumeRole', outcome: 'ok' }).length);
    expect(metricValue(metrics, 'herdless_provider_requests_total', { operation: 'AssumeRoleWithWebIdentity', outcome: 'ok' })).toBe(2);
  });
});

/** Every key under the scenario's prefix and everything stored under it, as one string. */
async function redisDump(e: SecurityEnv): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await e.redis.scan(cursor, 'MATCH', `*${e.queuePrefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      parts.push(k);
      const type = await e.redis.type(k);
      if (type === 'string') parts.push((await e.redis.get(k)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await e.redis.hgetall(k)));
      else if (type === 'list') parts.push(...(await e.redis.lrange(k, 0, -1)));
      else if (type === 'set') parts.push(...(await e.redis.smembers(k)));
      else if (type === 'zset') parts.push(...(await e.redis.zrange(k, 0, -1)));
      else if (type === 'stream') parts.push(JSON.stringify(await e.redis.xrange(k, '-', '+')));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}
