// Issue 27 (a): two tenants whose stores resolve to one quota key (same service, Region, account
// and endpoint) but to different credentials. Our AWS endpoint lets tenant A's access keys read
// the remote key K and denies tenant B's. B tries the ways a hostile tenant would to ride on A's
// reads: a SecretStore whose credential refs name A's namespace (ESO ignores that field on a
// SecretStore), and a ClusterSecretStore that uses the same credential Secret as A's with other
// keys. Coalescing (a long window) and batching (always) are on, A's ExternalSecrets refresh
// every second and B's are re-synced again and again, so their reads overlap for at least 1,000
// sync passes: B never receives K's value, and every B ExternalSecret says AccessDenied.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExternalSecret, eventually, listExternalSecrets, patchExternalSecretSpec } from '../e2e/support/kube.js';
import { metricValue, startSecurityEnv, type SecurityEnv } from './support/security-env.js';

const PER_STORE = 10;
const ROUNDS = 1_000;

let env: SecurityEnv;
let nsA: string;
let nsB: string;
const K = `tenant-a/k-${randomBytes(3).toString('hex')}`;
const kValue = `k-value-${randomBytes(8).toString('hex')}`;
const OPEN = `shared/open-${randomBytes(3).toString('hex')}`;
const openValue = `open-value-${randomBytes(8).toString('hex')}`;

const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

beforeAll(async () => {
  env = await startSecurityEnv('cred-iso');
  nsA = await env.namespace('tenant-a');
  nsB = await env.namespace('tenant-b');
  env.aws.putSecret({ name: K, secretString: kValue });
  env.aws.putSecret({ name: OPEN, secretString: openValue });
  env.aws.denyReads('AKIDTENANTB', [K]);
  env.aws.denyReads('AKIDCLUSTERB', [K]);

  await env.credentialsSecret(nsA, 'aws-creds', 'AKIDTENANTA');
  await env.credentialsSecret(nsB, 'aws-creds', 'AKIDTENANTB');
  // One credential Secret, two key pairs: the operator's ClusterSecretStores each use one.
  await env.admin.core.createNamespacedSecret({
    namespace: env.systemNamespace,
    body: {
      metadata: { name: 'cluster-creds' },
      stringData: { 'a-id': 'AKIDCLUSTERA', 'a-secret': 'secret-a', 'b-id': 'AKIDCLUSTERB', 'b-secret': 'secret-b' },
    },
  });
  await env.awsStore({ kind: 'SecretStore', name: 'aws', namespace: nsA, secretRef: { name: 'aws-creds' } });
  // Hostile: B's store names A's credential Secret by namespace.
  await env.awsStore({ kind: 'SecretStore', name: 'aws', namespace: nsB, secretRef: { name: 'aws-creds', namespace: nsA } });
  const clusterStore = (tenant: 'a' | 'b', ns: string) =>
    env.awsStore({
      kind: 'ClusterSecretStore',
      name: `cluster-${tenant}-${env.run}`,
      secretRef: { name: 'cluster-creds', namespace: env.systemNamespace, accessKeyIdKey: `${tenant}-id`, secretAccessKeyKey: `${tenant}-secret` },
      conditions: [{ namespaces: [ns] }],
    });
  await clusterStore('a', nsA);
  await clusterStore('b', nsB);

  const spec = (store: { name: string; kind: string }, refreshInterval: string) => ({
    refreshInterval,
    secretStoreRef: store,
    data: [
      { secretKey: 'k', remoteRef: { key: K } },
      { secretKey: 'open', remoteRef: { key: OPEN } },
    ],
  });
  for (let i = 0; i < PER_STORE; i++) {
    await createExternalSecret(env.admin, nsA, `via-store-${i}`, spec({ name: 'aws', kind: 'SecretStore' }, '1s'));
    await createExternalSecret(env.admin, nsA, `via-cluster-${i}`, spec({ name: `cluster-a-${env.run}`, kind: 'ClusterSecretStore' }, '1s'));
    await createExternalSecret(env.admin, nsB, `via-store-${i}`, spec({ name: 'aws', kind: 'SecretStore' }, '1h'));
    await createExternalSecret(env.admin, nsB, `via-cluster-${i}`, spec({ name: `cluster-b-${env.run}`, kind: 'ClusterSecretStore' }, '1h'));
  }
  const budgets = ['--budgets', 'aws-sm=500,aws-sm.BatchGetSecretValue=200'];
  await env.startHerdless({ workers: 2, commonArgs: budgets, workerArgs: ['--coalesce-window-ms', '500', '--batching', 'always', '--concurrency', '40'] });
}, 600_000);

afterAll(async () => {
  await env?.stop();
});

/** Every target Secret of tenant B: none may ever hold K's value. */
async function assertBNeverHoldsK(): Promise<number> {
  const list = await env.admin.core.listNamespacedSecret({ namespace: nsB });
  for (const s of list.items) {
    for (const v of Object.values(s.data ?? {})) expect(unb64(v)).not.toBe(kValue);
  }
  return list.items.length;
}

describe('tenants with different credentials on one quota key', () => {
  it("tenant A's ExternalSecrets sync with K, tenant B's say AccessDenied", async () => {
    await eventually('tenant A Ready', 120_000, async () => {
      const a = await listExternalSecrets(env.admin, nsA);
      return a.length === 2 * PER_STORE && a.every((e) => e.ready === 'True') ? a : undefined;
    });
    const secretA = await env.admin.core.readNamespacedSecret({ namespace: nsA, name: 'via-store-0' });
    expect(unb64(secretA.data?.k)).toBe(kValue);
    const b = await eventually('tenant B failed', 120_000, async () => {
      const list = await listExternalSecrets(env.admin, nsB);
      return list.length === 2 * PER_STORE && list.every((e) => e.ready === 'False') ? list : undefined;
    });
    expect(new Set(b.map((e) => e.reason))).toEqual(new Set(['AccessDenied']));
    for (const e of b) expect(e.message ?? '').not.toContain(kValue);
  });

  it(`B never receives K's value over ${ROUNDS} sync passes with coalescing and batching on`, async () => {
    const passes = async () => (await env.workerMetrics()).reduce((sum, text) => sum + metricValue(text, 'herdless_syncs_total'), 0);
    const start = await passes();
    // B's ExternalSecrets are re-synced (a spec change each round) while A's refresh every second.
    let round = 0;
    let done = false;
    const churn = (async () => {
      while (!done) {
        round++;
        const before = await passes();
        for (let i = 0; i < PER_STORE; i++) {
          for (const name of [`via-store-${i}`, `via-cluster-${i}`]) {
            await patchExternalSecretSpec(env.admin, nsB, name, { refreshInterval: round % 2 === 0 ? '1h' : '59m' });
          }
        }
        await assertBNeverHoldsK();
        // The next round when the workers have made at least as many passes as it asked for.
        await eventually('the round synced', 120_000, async () => (done || (await passes()) - before >= 2 * PER_STORE ? true : undefined));
      }
    })();
    try {
      await eventually(`${ROUNDS} sync passes`, 600_000, async () => ((await passes()) - start >= ROUNDS ? true : undefined), 1_000);
    } finally {
      done = true;
      await churn;
    }
    await assertBNeverHoldsK();
    const metrics = await env.workerMetrics();
    // Coalescing and batching were really at work for the tenants' own reads.
    expect(metrics.reduce((s, t) => s + metricValue(t, 'herdless_coalesced_reads_total'), 0)).toBeGreaterThan(0);
    expect(metrics.reduce((s, t) => s + metricValue(t, 'herdless_provider_reads_total', { operation: 'BatchGetSecretValue' }), 0)).toBeGreaterThan(0);
    // B's credentials asked for K and were refused by the endpoint, never served.
    const bReads = env.aws.requests().filter((r) => r.accessKeyId === 'AKIDTENANTB' || r.accessKeyId === 'AKIDCLUSTERB');
    expect(bReads.length).toBeGreaterThan(0); // B's own credentials did the asking
    expect(round).toBeGreaterThan(1);
    const list = await listExternalSecrets(env.admin, nsB);
    expect(list.every((e) => e.ready !== 'True')).toBe(true);
    // Nothing in the processes' output carries the values.
    expect(env.output()).not.toContain(kValue);
    expect(env.output()).not.toContain(openValue);
  });
});
