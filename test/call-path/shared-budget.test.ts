// Issue 11: four worker processes on the same queue share one provider budget. 5,000 sync jobs,
// each reading its own Secrets Manager secret, are all due at once; the endpoint's quota is the
// budget B itself, so one call over B in any second would be throttled. The endpoint's
// per-second log must show no second over B and no ThrottlingException.
import { startAwsEndpoint, type AwsEndpoint } from '@herdless/lab';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  adminClients,
  createFleet,
  enqueueRound,
  maxSlidingWindow,
  notReady,
  openEnqueuer,
  perSecondPeak,
  queueOf,
  runId,
  spawnWorkers,
  waitForDrained,
  type AdminClients,
  type Fleet,
  type HerdlessProcess,
} from './support/fleet.js';
import { deleteNamespace, adminKubeConfig } from '../support/kube.js';
import type { SyncEnqueuer } from '@herdless/scheduler';

const B = Number(process.env.CP_BUDGET ?? 40);
const JOBS = Number(process.env.CP_JOBS ?? 5_000);
const WORKERS = 4;
const run = runId();

let admin: AdminClients;
let aws: AwsEndpoint;
let enqueuer: SyncEnqueuer;
let fleet: Fleet | undefined;
const workers: HerdlessProcess[] = [];

beforeAll(async () => {
  admin = adminClients(inject('kubeconfigPath'));
  // The endpoint's GetSecretValue quota is B with a bucket of B: AWS's shape, our budget's size.
  aws = await startAwsEndpoint({ quotas: { GetSecretValue: { rps: B, burst: B } } });
  for (let i = 0; i < JOBS; i++) aws.putSecret({ name: `budget-${run}/s-${i}`, secretString: `v${i}` });
  enqueuer = openEnqueuer(inject('redisUrl'), `cpa${run}`);
  workers.push(
    ...spawnWorkers(WORKERS, {
      redisUrl: inject('redisUrl'),
      kubeconfigPath: inject('kubeconfigPath'),
      queuePrefix: `cpa${run}`,
      awsUrl: aws.url,
      budgets: `aws-sm=${B}`,
      concurrency: Number(process.env.CP_CONCURRENCY ?? 25),
    }),
  );
  const t = Date.now();
  fleet = await createFleet({ admin, aws, prefix: 'cp-budget', service: 'SecretsManager', count: JOBS, keyOf: (i) => `budget-${run}/s-${i}` });
  process.stderr.write(`[call-path a] created ${JOBS} ExternalSecrets in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.stop()));
  await enqueuer?.close();
  await aws?.stop();
  if (fleet) await deleteNamespace(adminKubeConfig(), fleet.namespace).catch(() => undefined);
});

describe('four worker processes share one provider budget', () => {
  it(`${JOBS} jobs due at once: no second over the budget (${B}/s) and zero ThrottlingException at the endpoint`, async () => {
    const f = fleet as Fleet;
    const queue = queueOf(enqueuer);
    const started = Date.now();
    const { monitorEventLoopDelay } = await import('node:perf_hooks');
    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    await enqueueRound(queue, f, 'new');
    try {
      await waitForDrained(queue, 240_000);
    } finally {
      const tail = workers.map((w) => `--- ${w.name}\n${w.output().split('\n').slice(-8).join('\n')}`).join('\n');
      if (Date.now() - started > 239_000) process.stderr.write(tail);
    }
    const elapsedS = (Date.now() - started) / 1000;
    lag.disable();
    process.stderr.write(`[call-path a] endpoint process event-loop delay: max ${(lag.max / 1e6).toFixed(0)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms\n`);

    const filter = { operation: 'GetSecretValue' as const };
    const { peak, throttled, seconds } = perSecondPeak(aws, filter);
    const calls = aws.requests(filter);
    const sliding = maxSlidingWindow(calls);
    const counts = aws.counts();
    process.stderr.write(
      `[call-path a] ${JOBS} jobs, ${WORKERS} workers, budget ${B}/s: drained in ${elapsedS.toFixed(1)} s; ` +
        `GetSecretValue ${calls.length} calls over ${seconds} s, peak ${peak}/s (epoch seconds), ${sliding} in the busiest sliding second, ` +
        `${throttled} throttled; counts ${JSON.stringify(counts)}\n`,
    );

    if (process.env.CP_DEBUG) process.stderr.write(aws.requestsPerSecond(filter).map((b) => `${b.second % 1000}:${b.ok}/${b.throttled}`).join(' ') + '\n');
    expect(throttled).toBe(0);
    expect(peak).toBeLessThanOrEqual(B);
    // Every job read its own key once: coalescing had nothing to merge, the budget did the work.
    expect(calls.filter((c) => c.outcome === 'ok').length).toBe(JOBS);
    const { names, reasons } = await notReady(admin, f);
    expect({ notReady: names.length, reasons }).toEqual({ notReady: 0, reasons: {} });
  });
});
