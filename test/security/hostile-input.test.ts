// Issue 27 (c): hostile input from tenants, among 1,000 healthy ExternalSecrets, against a
// scheduler and two workers as separate processes with the chart's RBAC. Every hostile object
// ends with a specific Ready=False reason (or a clean result where the input is legal), the
// healthy fleet keeps syncing, no job lock lapses on any worker, and a terminal failure is not
// retried: neither the ExternalSecret's attempts nor our AWS endpoint's counters for the reads
// it made move over a whole refresh round of the healthy fleet.
//
// Seen to fail without the protections: on the code before them, the worker that took the
// find.name.regexp or namespaceRegexes job stopped answering (its /metrics too) and the wait
// for the conditions timed out; the 400-digit refreshInterval became Ready=True; the invalid
// keys, the oversized Secret and the schema-failing store were retried with failedAttempts
// growing (the planner's TERMINAL_REASONS did not know them).
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS } from '@herdless/core';
import { createExternalSecret, createStore, eventually } from '../e2e/support/kube.js';
import { metricValue, startSecurityEnv, type SecurityEnv } from './support/security-env.js';

const HEALTHY = 1_000;
/** Short, so that a whole refresh round of the healthy fleet fits in the test. */
const HEALTHY_INTERVAL = '30s';
/** The Region of the one store whose reads all end in a terminal failure: its requests are counted apart. */
const TERMINAL_REGION = 'eu-central-1';

let env: SecurityEnv;
let healthyNs: string;
let hostileNs: string;
/** 40 'a's then "-<run>": a catastrophic input for ^(a+)+$ in a backtracking engine. */
let aaaNs: string;
let prefix: string;
const clusterStores: string[] = [];
/** Values of the oversized remote secrets: none may appear in a process's output. */
const bigValues: string[] = [];

interface Expectation {
  namespace: () => string;
  name: string;
  spec: () => Record<string, unknown>;
  /** Ready=False with this reason, or 'Ready' for an input that is legal and must sync cleanly. */
  outcome: string;
}

const data = (secretKey: string, key: string) => [{ secretKey, remoteRef: { key } }];
const healthyKey = (i: number) => `${prefix}/healthy-${i}`;

const hostile: Expectation[] = [
  {
    namespace: () => hostileNs,
    name: 'find-catastrophic-regexp',
    spec: () => ({ secretStoreRef: { name: 'aws' }, refreshInterval: '1h', dataFrom: [{ find: { path: `${prefix}-redos`, name: { regexp: '^(.+)+z$' } } }] }),
    outcome: 'Ready',
  },
  {
    namespace: () => hostileNs,
    name: 'find-lookahead',
    spec: () => ({ secretStoreRef: { name: 'aws' }, dataFrom: [{ find: { name: { regexp: '^(?=x)' } } }] }),
    outcome: 'InvalidSpec',
  },
  {
    namespace: () => hostileNs,
    name: 'rewrite',
    // Lookbehind: Go's RE2 (ESO's regexp) cannot compile it.
    spec: () => ({ secretStoreRef: { name: 'aws' }, dataFrom: [{ find: { name: { regexp: 'redos-z$' } }, rewrite: [{ regexp: { source: '(?<=a)x', target: 'x' } }] }] }),
    outcome: 'InvalidSpec',
  },
  {
    namespace: () => aaaNs,
    name: 'catastrophic-namespace-regex',
    spec: () => ({ secretStoreRef: { name: `catastrophic-${env.run}`, kind: 'ClusterSecretStore' }, data: data('k', healthyKey(0)) }),
    outcome: 'SecretStoreNotAllowed',
  },
  {
    namespace: () => hostileNs,
    name: 'namespace-regex-re2-rejects',
    spec: () => ({ secretStoreRef: { name: `lookbehind-${env.run}`, kind: 'ClusterSecretStore' }, data: data('k', healthyKey(0)) }),
    outcome: 'InvalidStoreSpec',
  },
  {
    namespace: () => hostileNs,
    name: 'template-of-braces',
    // 40,000 "{{" without "}}" in each of ten keys: ESO's parser refuses it at once.
    spec: () => ({
      secretStoreRef: { name: 'aws' },
      refreshInterval: '1h',
      data: data('in', healthyKey(0)),
      target: { template: { data: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`t${i}`, '{{'.repeat(40_000)])) } },
    }),
    outcome: 'TemplateError',
  },
  {
    namespace: () => hostileNs,
    name: 'template-endless',
    // 10^10 steps of ESO's engine: stopped at the worker's time limit for one render (--template-timeout-ms).
    spec: () => ({
      secretStoreRef: { name: 'aws' },
      refreshInterval: '1h',
      data: data('in', healthyKey(0)),
      target: { template: { data: { t: '{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}' } } },
    }),
    outcome: 'TemplateError',
  },
  { namespace: () => hostileNs, name: 'key-dot', spec: () => ({ secretStoreRef: { name: 'aws' }, data: data('.', healthyKey(0)) }), outcome: 'InvalidSecretKey' },
  { namespace: () => hostileNs, name: 'key-dotdot', spec: () => ({ secretStoreRef: { name: 'aws' }, data: data('..', healthyKey(0)) }), outcome: 'InvalidSecretKey' },
  { namespace: () => hostileNs, name: 'key-254', spec: () => ({ secretStoreRef: { name: 'aws' }, data: data('k'.repeat(254), healthyKey(0)) }), outcome: 'InvalidSecretKey' },
  {
    namespace: () => hostileNs,
    name: 'remote-key-dotdot',
    // The key comes from the remote JSON: only known after the fetch.
    spec: () => ({ secretStoreRef: { name: 'terminal-region' }, dataFrom: [{ extract: { key: `${prefix}/dotdot-json` } }] }),
    outcome: 'InvalidSecretKey',
  },
  {
    namespace: () => hostileNs,
    name: 'too-large',
    spec: () => ({ secretStoreRef: { name: 'terminal-region' }, data: bigValues.map((_, i) => ({ secretKey: `part-${i}`, remoteRef: { key: `${prefix}/big-${i}` } })) }),
    outcome: 'SecretTooLarge',
  },
  {
    namespace: () => hostileNs,
    name: 'interval-400-digits',
    spec: () => ({ secretStoreRef: { name: 'aws' }, refreshInterval: `${'9'.repeat(400)}h`, data: data('k', healthyKey(0)) }),
    outcome: 'InvalidRefreshInterval',
  },
  {
    namespace: () => hostileNs,
    name: 'store-of-another-namespace',
    // A SecretStore of that name exists in the healthy namespace: the message must not say so.
    spec: () => ({ secretStoreRef: { name: 'only-in-healthy' }, data: data('k', healthyKey(0)) }),
    outcome: 'SecretStoreNotFound',
  },
  { namespace: () => hostileNs, name: 'store-fails-schema', spec: () => ({ secretStoreRef: { name: 'invalid-store' }, data: data('k', healthyKey(0)) }), outcome: 'InvalidStoreSpec' },
];
const terminalCases = hostile.filter((h) => h.outcome !== 'Ready');

interface EsStatus {
  namespace: string;
  name: string;
  ready?: string;
  reason?: string;
  message?: string;
  refreshTime?: string;
  failedAttempts?: number;
  lastAttemptTime?: string;
}

async function statuses(namespace: string): Promise<EsStatus[]> {
  const list = (await env.admin.custom.listNamespacedCustomObject({
    group: EXTERNAL_SECRETS_GROUP,
    version: EXTERNAL_SECRETS_VERSION,
    plural: PLURALS.ExternalSecret,
    namespace,
  })) as { items: Array<{ metadata: { name: string }; status?: Omit<EsStatus, 'namespace' | 'name' | 'ready' | 'reason' | 'message'> & { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } }> };
  return list.items.map((i) => {
    const ready = i.status?.conditions?.find((c) => c.type === 'Ready');
    return {
      namespace,
      name: i.metadata.name,
      ready: ready?.status,
      reason: ready?.reason,
      message: ready?.message,
      refreshTime: i.status?.refreshTime,
      failedAttempts: i.status?.failedAttempts,
      lastAttemptTime: i.status?.lastAttemptTime,
    };
  });
}

async function hostileStatuses(): Promise<Map<string, EsStatus>> {
  const all = [...(await statuses(hostileNs)), ...(await statuses(aaaNs))];
  return new Map(all.map((s) => [s.name, s]));
}

const settled = (h: Expectation, s: EsStatus | undefined) =>
  h.outcome === 'Ready' ? s?.ready === 'True' : s?.ready === 'False' && s.reason === h.outcome;

async function readSecret(namespace: string, name: string) {
  try {
    return await env.admin.core.readNamespacedSecret({ namespace, name });
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

/** Runs `task` over `items` with at most `width` at once (creating 1,000 objects one by one takes long). */
async function inParallel<T>(items: T[], width: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await task(items[next++] as T);
  }));
}

const terminalRegionRequests = () => env.aws.requests().filter((r) => r.region === TERMINAL_REGION).length;

beforeAll(async () => {
  env = await startSecurityEnv('hostile');
  prefix = `h${env.run}`;
  healthyNs = await env.namespace('healthy');
  hostileNs = await env.namespace('hostile');
  aaaNs = await env.namespace('a'.repeat(40));
  for (const ns of [healthyNs, hostileNs, aaaNs]) await env.credentialsSecret(ns, 'aws-credentials', `AKID${env.run}`);
  await env.credentialsSecret(env.systemNamespace, 'aws-credentials', `AKID${env.run}`);
  const secretRef = { name: 'aws-credentials' };
  await env.awsStore({ kind: 'SecretStore', name: 'aws', namespace: healthyNs, secretRef });
  await env.awsStore({ kind: 'SecretStore', name: 'only-in-healthy', namespace: healthyNs, secretRef });
  await env.awsStore({ kind: 'SecretStore', name: 'aws', namespace: hostileNs, secretRef });
  await env.awsStore({ kind: 'SecretStore', name: 'terminal-region', namespace: hostileNs, region: TERMINAL_REGION, secretRef });
  const systemRef = { name: 'aws-credentials', namespace: env.systemNamespace };
  await env.awsStore({ kind: 'ClusterSecretStore', name: `catastrophic-${env.run}`, secretRef: systemRef, conditions: [{ namespaceRegexes: ['^(a+)+$'] }] });
  await env.awsStore({ kind: 'ClusterSecretStore', name: `lookbehind-${env.run}`, secretRef: systemRef, conditions: [{ namespaceRegexes: ['(?<=team-)a'] }] });
  clusterStores.push(`catastrophic-${env.run}`, `lookbehind-${env.run}`);
  // The API server takes an int64; the store's schema (and ESO's Go int) takes no more than 2^53-1 here.
  await createStore(env.admin, 'SecretStore', 'invalid-store', hostileNs, {
    provider: { aws: { service: 'SecretsManager', region: env.aws.region, auth: { secretRef: { accessKeyIDSecretRef: { name: 'aws-credentials', key: 'access-key-id' }, secretAccessKeySecretRef: { name: 'aws-credentials', key: 'secret-access-key' } } } } },
    refreshInterval: 1e17,
  });

  for (let i = 0; i < HEALTHY; i++) env.aws.putSecret({ name: healthyKey(i), secretString: `healthy-${i}` });
  env.aws.putSecret({ name: `${prefix}-redos-${'a'.repeat(40)}`, secretString: 'never matched' });
  env.aws.putSecret({ name: `${prefix}-redos-z`, secretString: 'matched' });
  env.aws.putSecret({ name: `${prefix}/dotdot-json`, secretString: JSON.stringify({ ok: 'x', '..': 'y' }) });
  // 17 values of 64,000 bytes: 1,088,000 bytes, over the API server's 1 MiB for a Secret.
  for (let i = 0; i < 17; i++) {
    const value = randomBytes(32_000).toString('hex');
    bigValues.push(value);
    env.aws.putSecret({ name: `${prefix}/big-${i}`, secretString: value });
  }

  await env.startHerdless();
  await inParallel(
    Array.from({ length: HEALTHY }, (_, i) => i),
    16,
    (i) => createExternalSecret(env.admin, healthyNs, `healthy-${i}`, { secretStoreRef: { name: 'aws' }, refreshInterval: HEALTHY_INTERVAL, data: data('value', healthyKey(i)) }),
  );
  for (const h of hostile) await createExternalSecret(env.admin, h.namespace(), h.name, h.spec());
}, 600_000);

let logsShown = false;
afterEach((ctx) => {
  if (ctx.task.result?.state !== 'fail' || logsShown) return;
  logsShown = true;
  for (const p of env?.processes ?? []) process.stderr.write(`\n--- last lines of ${p.name} ---\n${p.output().split('\n').slice(-30).join('\n')}\n`);
});

afterAll(async () => {
  for (const name of clusterStores) {
    await env?.admin.custom
      .deleteClusterCustomObject({ group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ClusterSecretStore, name })
      .catch(() => undefined);
  }
  await env?.stop();
});

describe('hostile input among 1,000 healthy ExternalSecrets', () => {
  it('each hostile input gets Ready=False with its own reason, or a clean result, while all 1,000 healthy ones sync', async () => {
    const byName = await eventually('every hostile ExternalSecret to settle', 150_000, async () => {
      const s = await hostileStatuses();
      const pending = hostile.filter((h) => !settled(h, s.get(h.name)));
      // Thrown, not returned: on a timeout the message says which ones never settled, and as what.
      if (pending.length > 0) throw new Error(`unsettled: ${pending.map((h) => `${h.name}=${s.get(h.name)?.reason ?? 'no condition'}`).join(', ')}`);
      return s;
    }, 2_000);
    for (const h of hostile) {
      const s = byName.get(h.name);
      expect({ name: h.name, outcome: s?.ready === 'True' ? 'Ready' : s?.reason }).toEqual({ name: h.name, outcome: h.outcome });
    }
    // The messages name the field or the limit, and nothing of another namespace.
    expect(byName.get('find-lookahead')?.message).toMatch(/spec\.dataFrom\[0\]\.find\.name\.regexp/);
    expect(byName.get('rewrite')?.message).toMatch(/^spec\.dataFrom\[0\]: error applying rewrite to keys/);
    expect(byName.get('template-of-braces')?.message).toContain('unable to parse template');
    expect(byName.get('template-endless')?.message).toContain('took longer than');
    expect(byName.get('key-254')?.message).toMatch(/spec\.data\[0\]\.secretKey/);
    expect(byName.get('too-large')?.message).toMatch(/1088\d{3} bytes .*1048576/);
    expect(byName.get('store-fails-schema')?.message).toMatch(/spec\.refreshInterval/);
    expect(byName.get('namespace-regex-re2-rejects')?.message).toMatch(/spec\.conditions\[0\]\.namespaceRegexes\[0\]/);
    expect(byName.get('store-of-another-namespace')?.message).toContain(hostileNs);
    for (const s of byName.values()) expect(s.message ?? '', s.name).not.toContain(healthyNs);

    // The legal inputs synced to exactly what they ask for.
    expect(Object.keys((await readSecret(hostileNs, 'find-catastrophic-regexp'))?.data ?? {})).toEqual([`${prefix}-redos-z`]);
    // The refused ones wrote nothing.
    for (const h of terminalCases) expect(await readSecret(h.namespace(), h.name), h.name).toBeUndefined();

    await eventually(`all ${HEALTHY} healthy ExternalSecrets Ready`, 60_000, async () => {
      const ready = (await statuses(healthyNs)).filter((s) => s.ready === 'True').length;
      return ready === HEALTHY ? true : undefined;
    }, 2_000);
  });

  it('a terminal failure is not retried: attempts and AWS requests stand still over a whole refresh round of the healthy fleet', async () => {
    const before = await hostileStatuses();
    const requestsBefore = terminalRegionRequests();
    // The two ExternalSecrets of the terminal-region store reached AWS (a JSON key, 17 values), then failed.
    expect(requestsBefore).toBeGreaterThan(0);
    const roundStart = Math.floor(Date.now() / 1000) * 1000 + 1000;
    await eventually('every healthy ExternalSecret refreshed after the snapshot', 150_000, async () => {
      const all = await statuses(healthyNs);
      const refreshed = all.filter((s) => s.ready === 'True' && s.refreshTime !== undefined && Date.parse(s.refreshTime) >= roundStart);
      return refreshed.length === HEALTHY ? true : undefined;
    }, 3_000);
    const after = await hostileStatuses();
    // Soft: a failure shows every case that moved, and the requests, not just the first.
    expect.soft(terminalRegionRequests(), 'requests for the terminal-region store').toBe(requestsBefore);
    for (const h of terminalCases) {
      const was = before.get(h.name);
      const now = after.get(h.name);
      expect.soft({ name: h.name, failedAttempts: now?.failedAttempts, lastAttemptTime: now?.lastAttemptTime, reason: now?.reason }).toEqual({
        name: h.name,
        failedAttempts: 1,
        lastAttemptTime: was?.lastAttemptTime,
        reason: h.outcome,
      });
    }
  });

  it('no job lock lapsed on any worker, and no oversized value reached a log', async () => {
    const metrics = await env.workerMetrics();
    expect(metrics).toHaveLength(2);
    for (const text of metrics) {
      expect(metricValue(text, 'herdless_syncs_total')).toBeGreaterThan(0);
      expect(metricValue(text, 'herdless_sync_jobs_stalled_total')).toBe(0);
    }
    const output = env.output();
    for (const v of bigValues) expect(output.includes(v.slice(0, 32))).toBe(false);
  });
});
