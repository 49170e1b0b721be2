// Issue 27 (b): budgets are the operator's. Three tenants share one quota key (one account,
// Region and endpoint) whose budget the operator set with --budgets to the endpoint's own quota.
// Tenant "greedy" annotates its store herdless.io/budget-rps: 10000 to raise the key's budget;
// tenant "meek" annotates its store 1 (which used to lower the budget of everyone on the key);
// tenant "plain" has no annotation. All create ExternalSecrets at once. The endpoint sees no
// second over the budget and throttles nothing (the raise did nothing), every tenant syncs, the
// limiter's rate in force for the key is the operator's budget (the cut did nothing to others),
// and the meek store's own calls keep to its own cap. The endpoint runs in a process of its own
// (startOwnAwsEndpoint), so that its seconds are the store's, not the test process's.
import type { LabAwsEndpoint } from '@herdless/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExternalSecret, eventually, listExternalSecrets } from '../e2e/support/kube.js';
import { metricValue, startOwnAwsEndpoint, startSecurityEnv, type SecurityEnv } from './support/security-env.js';

const BUDGET = 20;
const MEEK_CAP = 1;
const COUNT = { plain: 100, greedy: 100, meek: 10 } as const;
type Tenant = keyof typeof COUNT;
const KEY_ID: Record<Tenant, string> = { plain: 'AKIDPLAIN', greedy: 'AKIDGREEDY', meek: 'AKIDMEEK' };

let env: SecurityEnv;
let aws: LabAwsEndpoint;
const ns = {} as Record<Tenant, string>;

beforeAll(async () => {
  env = await startSecurityEnv('budget');
  aws = await startOwnAwsEndpoint(env);
  await aws.setQuota('GetSecretValue', BUDGET, BUDGET);
  for (const tenant of Object.keys(COUNT) as Tenant[]) {
    ns[tenant] = await env.namespace(tenant);
    await env.credentialsSecret(ns[tenant], 'aws-creds', KEY_ID[tenant]);
    const annotations = tenant === 'greedy' ? { 'herdless.io/budget-rps': '10000' } : tenant === 'meek' ? { 'herdless.io/budget-rps': String(MEEK_CAP) } : undefined;
    await env.awsStore({ kind: 'SecretStore', name: 'aws', namespace: ns[tenant], region: aws.region, secretRef: { name: 'aws-creds' }, ...(annotations ? { annotations } : {}) });
    for (let i = 0; i < COUNT[tenant]; i++) await aws.putSecret({ name: `${tenant}/app-${i}`, secretString: `${tenant}-${i}` });
  }
  // The stores exist (and the workers have seen their annotations) before any ExternalSecret.
  const budgets = ['--budgets', `aws-sm=${BUDGET}`];
  await env.startHerdless({ workers: 2, commonArgs: budgets, workerArgs: ['--batching', 'never'], awsEndpointUrl: aws.url });
  const creates: Promise<unknown>[] = [];
  for (const tenant of Object.keys(COUNT) as Tenant[]) {
    for (let i = 0; i < COUNT[tenant]; i++) {
      creates.push(
        createExternalSecret(env.admin, ns[tenant], `app-${i}`, {
          refreshInterval: '1h',
          secretStoreRef: { name: 'aws', kind: 'SecretStore' },
          data: [{ secretKey: 'value', remoteRef: { key: `${tenant}/app-${i}` } }],
        }),
      );
    }
  }
  await Promise.all(creates);
}, 600_000);

afterAll(async () => {
  await env?.stop();
});

describe("a tenant's budget annotation", () => {
  it("changes neither the key's budget nor another tenant's share", async () => {
    for (const tenant of Object.keys(COUNT) as Tenant[]) {
      await eventually(`${tenant} Ready`, 300_000, async () => {
        const list = await listExternalSecrets(env.admin, ns[tenant]);
        return list.length === COUNT[tenant] && list.every((e) => e.ready === 'True') ? list : undefined;
      }, 1_000);
    }
    const reads = (await aws.requests(0)).filter((r) => r.operation === 'GetSecretValue');
    // The raise did nothing: the key stayed at the operator's budget at the endpoint.
    expect(reads.filter((r) => r.outcome === 'throttled')).toHaveLength(0);
    const perSecond = new Map<number, number>();
    for (const r of reads) perSecond.set(Math.floor(r.atMs / 1000), (perSecond.get(Math.floor(r.atMs / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(BUDGET);
    // The cut did nothing to the others: the rate in force for the key is the operator's budget
    // (the limiter admits a little under it, see core's sustainedRpsOf).
    for (const text of await env.workerMetrics()) {
      const rate = metricValue(text, 'herdless_rate_limiter_rate_rps', { operation: 'GetSecretValue', provider_key: `aws-sm|${aws.region}|default|${aws.url}` });
      expect(rate).toBeGreaterThan(BUDGET * 0.9);
      expect(rate).toBeLessThanOrEqual(BUDGET);
    }
    // The meek store's own calls kept to its own cap, second by second.
    const meekPerSecond = new Map<number, number>();
    for (const r of reads.filter((x) => x.accessKeyId === KEY_ID.meek)) meekPerSecond.set(Math.floor(r.atMs / 1000), (meekPerSecond.get(Math.floor(r.atMs / 1000)) ?? 0) + 1);
    expect(Math.max(...meekPerSecond.values())).toBeLessThanOrEqual(MEEK_CAP + 1);
    expect([...meekPerSecond.values()].reduce((a, b) => a + b, 0)).toBe(COUNT.meek);
  });
});
