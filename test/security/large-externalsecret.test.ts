// Issue 27 (e): one sync, one admission. A tenant's ExternalSecret with 1,000 Secrets Manager
// keys, one with 100 Parameter Store names and one that finds 100 parameters by path (10 pages)
// converge at a budget that binds: the scheduler and two workers run as separate processes, our
// AWS endpoint's quotas are set to the budgets, and the endpoint sees zero throttled replies and
// no epoch second over a budget, and every remote value is read exactly once (a sync that held
// its admission never dropped a read it had paid for). Run with batching off (one call per key)
// and on (BatchGetSecretValue and GetParameters), as the workers' --batching sets it.
// The endpoint runs in a process of its own, as AWS counts a call when it arrives: in the test's
// process its clock was the test's event loop, and a stall there moved a second's calls into
// the next (CI once saw 51 GetSecretValue in a second at a budget of 50 with the limiter's own
// admissions within it).
import { randomBytes } from 'node:crypto';
import type { LabAwsEndpoint } from '@herdless/cli';
import { countRequests, PARAMETER_STORE_THROUGHPUT_OPERATIONS, requestsPerSecond, type RequestFilter } from '@herdless/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExternalSecret, eventually, listExternalSecrets } from '../e2e/support/kube.js';
import { metricValue, startOwnAwsEndpoint, startSecurityEnv, type SecurityEnv } from './support/security-env.js';

/** Budgets (rps) small enough to bind: 1,000 reads take 20 s at 50/s, 100 reads 10 s at 10/s. */
const BUDGET = { GetSecretValue: 50, BatchGetSecretValue: 5, ParameterStoreRead: 10 } as const;
const SM_KEYS = 1_000;
const PS_NAMES = 100;
/** The lines of `--budgets` that scheduler and workers share. */
const BUDGETS_FLAG = `aws-sm.GetSecretValue=${BUDGET.GetSecretValue},aws-sm.BatchGetSecretValue=${BUDGET.BatchGetSecretValue},aws-ps=${BUDGET.ParameterStoreRead}`;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

for (const batching of ['never', 'always'] as const) {
  describe(`an ExternalSecret with ${SM_KEYS} keys converges at the budget (batching ${batching})`, () => {
    let env: SecurityEnv;
    let aws: LabAwsEndpoint;
    let ns: string;
    const smValues = new Map<string, string>();
    const psValues = new Map<string, string>();
    const createdAtMs: Record<string, number> = {};

    beforeAll(async () => {
      env = await startSecurityEnv('large');
      aws = await startOwnAwsEndpoint(env);
      await aws.setQuota('GetSecretValue', BUDGET.GetSecretValue, BUDGET.GetSecretValue);
      await aws.setQuota('BatchGetSecretValue', BUDGET.BatchGetSecretValue, BUDGET.BatchGetSecretValue);
      await aws.setQuota('ParameterStoreThroughput', BUDGET.ParameterStoreRead, BUDGET.ParameterStoreRead);
      ns = await env.namespace('large');
      await env.credentialsSecret(ns, 'aws-creds', `AKIDLARGE${batching.toUpperCase()}`);
      await env.awsStore({ kind: 'SecretStore', name: 'sm', namespace: ns, region: aws.region, secretRef: { name: 'aws-creds' } });
      await env.awsStore({ kind: 'SecretStore', name: 'ps', namespace: ns, region: aws.region, service: 'ParameterStore', secretRef: { name: 'aws-creds' } });
      for (let i = 0; i < SM_KEYS; i++) {
        const name = `large/key-${String(i).padStart(4, '0')}`;
        smValues.set(name, `sm-${i}-${randomBytes(8).toString('hex')}`);
        await aws.putSecret({ name, secretString: smValues.get(name) as string });
      }
      for (let i = 0; i < PS_NAMES; i++) {
        const name = `/large/p-${String(i).padStart(3, '0')}`;
        psValues.set(name, `ps-${i}-${randomBytes(8).toString('hex')}`);
        await aws.putParameter({ name, value: psValues.get(name) as string, type: 'SecureString' });
      }
      await env.startHerdless({ workers: 2, commonArgs: ['--budgets', BUDGETS_FLAG], workerArgs: ['--batching', batching], awsEndpointUrl: aws.url });
      const storeRef = (name: string) => ({ name, kind: 'SecretStore' });
      const secretKeyOf = (remote: string) => remote.replace(/^\//, '').replace(/\//g, '_');
      const objects: Record<string, Record<string, unknown>> = {
        'sm-1000': { secretStoreRef: storeRef('sm'), data: [...smValues.keys()].map((key) => ({ secretKey: secretKeyOf(key), remoteRef: { key } })) },
        'ps-100': { secretStoreRef: storeRef('ps'), data: [...psValues.keys()].map((key) => ({ secretKey: secretKeyOf(key), remoteRef: { key } })) },
        'ps-find': { secretStoreRef: storeRef('ps'), dataFrom: [{ find: { path: '/large', name: { regexp: '^/large/p-' } } }] },
      };
      for (const [name, spec] of Object.entries(objects)) {
        createdAtMs[name] = Date.now();
        await createExternalSecret(env.admin, ns, name, { refreshInterval: '1h', target: { name }, ...spec });
      }
    }, 600_000);

    afterAll(async () => {
      await env?.stop();
    });

    it('every object is Ready with every key at the right bytes; no throttle, no second over a budget, every value read once', async () => {
      const readyAtMs: Record<string, number> = {};
      await eventually('the three ExternalSecrets Ready', 180_000, async () => {
        const list = await listExternalSecrets(env.admin, ns);
        for (const es of list) if (es.ready === 'True') readyAtMs[es.name] ??= Date.now();
        if (Object.keys(readyAtMs).length === 3) return list;
        // Kept as the last error: what the timeout reports.
        const waiting = list.filter((es) => es.ready !== 'True').map((es) => `${es.name} (${es.ready ?? 'no condition'}${es.reason ? ` ${es.reason}` : ''})`);
        throw new Error(`not Ready: ${waiting.join(', ')}; calls so far ${JSON.stringify(await aws.countsSince(0))}`);
      });

      const dataOf = async (name: string) => (await env.admin.core.readNamespacedSecret({ namespace: ns, name })).data ?? {};
      const sm = await dataOf('sm-1000');
      expect(Object.keys(sm)).toHaveLength(SM_KEYS);
      for (const [key, value] of smValues) expect(sm[key.replace(/\//g, '_')], key).toBe(b64(value));
      for (const name of ['ps-100', 'ps-find']) {
        const ps = await dataOf(name);
        expect(Object.keys(ps)).toHaveLength(PS_NAMES);
        // data's secretKey and find's Default conversion name the key alike: "/large/p-007" → "large_p-007" (find keeps the leading "_").
        for (const [key, value] of psValues) expect(ps[name === 'ps-find' ? key.replace(/\//g, '_') : key.slice(1).replace(/\//g, '_')], key).toBe(b64(value));
      }

      const records = await aws.requests(0);
      const counts = countRequests(records);
      const peak = (filter: RequestFilter) => Math.max(0, ...requestsPerSecond(records, filter).map((s) => s.ok + s.throttled + s.error));
      const sm1000Ms = (readyAtMs['sm-1000'] as number) - (createdAtMs['sm-1000'] as number);
      const smOperation = batching === 'never' ? 'GetSecretValue' : 'BatchGetSecretValue';
      const smCalls = batching === 'never' ? SM_KEYS : SM_KEYS / 20;
      const floorMs = (smCalls / BUDGET[smOperation]) * 1000;
      const smSeconds = requestsPerSecond(records, { operation: smOperation });
      console.log(
        `large ExternalSecret (batching ${batching}): ${SM_KEYS} keys Ready ${(sm1000Ms / 1000).toFixed(1)} s after creation, ` +
          `${smCalls} ${smOperation} calls over ${smSeconds.length} s; floor ${(floorMs / 1000).toFixed(1)} s (${smCalls} calls / ${BUDGET[smOperation]} rps), ` +
          `${(sm1000Ms / floorMs).toFixed(2)}x; per second ${smSeconds.map((s) => s.ok + s.throttled + s.error).join(' ')}; ` +
          `Parameter Store objects Ready ${(((readyAtMs['ps-100'] as number) - (createdAtMs['ps-100'] as number)) / 1000).toFixed(1)} s and ` +
          `${(((readyAtMs['ps-find'] as number) - (createdAtMs['ps-find'] as number)) / 1000).toFixed(1)} s after creation; calls ${JSON.stringify(counts)}`,
      );

      // Zero throttled replies, no error, and no epoch second over a budget at the store.
      for (const [operation, c] of Object.entries(counts)) expect(c, operation).toMatchObject({ throttled: 0, error: 0 });
      expect(peak({ operation: 'GetSecretValue' })).toBeLessThanOrEqual(BUDGET.GetSecretValue);
      expect(peak({ operation: 'BatchGetSecretValue' })).toBeLessThanOrEqual(BUDGET.BatchGetSecretValue);
      expect(peak({ operations: PARAMETER_STORE_THROUGHPUT_OPERATIONS })).toBeLessThanOrEqual(BUDGET.ParameterStoreRead);
      // Each remote value read once: no paid read dropped and read again.
      const psCalls = batching === 'never' ? { GetParameter: { ok: PS_NAMES, throttled: 0, error: 0 } } : { GetParameters: { ok: PS_NAMES / 10, throttled: 0, error: 0 } };
      expect(counts).toEqual({ [smOperation]: { ok: smCalls, throttled: 0, error: 0 }, ...psCalls, GetParametersByPath: { ok: PS_NAMES / 10, throttled: 0, error: 0 } });
      // The 20 s sync held its worker slot and its job lock all along.
      expect((await env.workerMetrics()).reduce((n, text) => n + metricValue(text, 'herdless_sync_jobs_stalled_total'), 0)).toBe(0);
    }, 240_000);
  });
}
