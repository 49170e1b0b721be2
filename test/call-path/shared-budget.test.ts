// Issue 11: four worker processes on the same queue share one provider budget. 5,000 sync jobs,
// each reading its own Secrets Manager secret, are all due at once; the endpoint's quota is the
// budget B itself, so a second over B would be throttled. The endpoint's per-second log must
// show no second over B and no ThrottlingException.
import { freeLoopbackPorts, mergeHistograms, sampleValues, scrapeLoopbackMetrics } from '@herdless/lab';
import type { SyncEnqueuer } from '@herdless/scheduler';
import { SYNC_START_LATENESS, WORKER_START_CPU } from '@herdless/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { peakOf, perSecond, spawnAwsEndpoint, type SpawnedAwsEndpoint } from './support/endpoint.js';
import {
  adminClients,
  createFleet,
  enqueueRound,
  maxSlidingWindow,
  notReady,
  openEnqueuer,
  queueOf,
  runId,
  spawnWorkers,
  waitForDrained,
  type AdminClients,
  type Fleet,
  stopCallPathRun,
  type HerdlessProcess,
} from './support/fleet.js';

const B = Number(process.env.CP_BUDGET ?? 80);
const JOBS = Number(process.env.CP_JOBS ?? 5_000);
const WORKERS = 4;
const run = runId();

let admin: AdminClients;
let aws: SpawnedAwsEndpoint | undefined;
let enqueuer: SyncEnqueuer | undefined;
let fleet: Fleet | undefined;
const workers: HerdlessProcess[] = [];
let metricsPorts: number[] = [];

beforeAll(async () => {
  admin = adminClients(inject('kubeconfigPath'));
  aws = await spawnAwsEndpoint();
  // The endpoint's GetSecretValue quota is B with a bucket of B: AWS's shape, our budget's size.
  await aws.setQuota('GetSecretValue', B, B);
  await aws.putSecrets(Array.from({ length: JOBS }, (_, i) => ({ name: `budget-${run}/s-${i}`, secretString: `v${i}` })));
  enqueuer = openEnqueuer(inject('redisUrl'), `cpa${run}`);
  metricsPorts = await freeLoopbackPorts(WORKERS);
  workers.push(
    ...spawnWorkers(WORKERS, {
      redisUrl: inject('redisUrl'),
      kubeconfigPath: inject('kubeconfigPath'),
      queuePrefix: `cpa${run}`,
      awsUrl: aws.url,
      budgets: `aws-sm=${B}`,
      concurrency: 25,
      metricsPorts,
    }),
  );
  const t = Date.now();
  fleet = await createFleet({ admin, aws, prefix: 'cp-budget', service: 'SecretsManager', count: JOBS, keyOf: (i) => `budget-${run}/s-${i}` });
  process.stderr.write(`[call-path a] created ${JOBS} ExternalSecrets in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}, 300_000);

afterAll(() => stopCallPathRun({ workers, enqueuer, aws, fleet }));

describe('four worker processes share one provider budget', () => {
  it(`${JOBS} jobs due at once: no second over the budget (${B}/s) and zero ThrottlingException at the endpoint`, async () => {
    const f = fleet as Fleet;
    const endpoint = aws as SpawnedAwsEndpoint;
    const queue = queueOf(enqueuer as SyncEnqueuer);
    const started = Date.now();
    await enqueueRound(queue, f, 'new');
    await waitForDrained(queue, 400_000);
    const elapsedS = (Date.now() - started) / 1000;

    const calls = await endpoint.requests({ operation: 'GetSecretValue' });
    const { peak, throttled } = peakOf(calls);
    const buckets = perSecond(calls);
    process.stderr.write(
      `[call-path a] ${JOBS} jobs, ${WORKERS} workers, budget ${B}/s: drained in ${elapsedS.toFixed(1)} s; GetSecretValue ${calls.length} calls ` +
        `over ${buckets.length} s (${(calls.length / Math.max(1, buckets.length)).toFixed(1)}/s), peak ${peak}/s (epoch seconds), ` +
        `${maxSlidingWindow(calls)} in the busiest sliding second, ${throttled} throttled\n` +
        (process.env.CP_DEBUG ? buckets.map((b) => `${b.second % 1000}:${b.ok}/${b.throttled}`).join(' ') + '\n' : ''),
    );

    expect(throttled).toBe(0);
    expect(peak).toBeLessThanOrEqual(B);
    // Every job read its own key once: coalescing had nothing to merge, the budget did the work.
    expect(calls.filter((c) => c.outcome === 'ok').length).toBe(JOBS);
    const { names, reasons } = await notReady(admin, f);
    expect({ notReady: names.length, reasons }).toEqual({ notReady: 0, reasons: {} });

    // The workers' own account of it, from their /metrics: every job's pass started, all planned
    // for the same moment, and the budget spread them out. Job k cannot be admitted before about
    // (k - B) / B seconds, so the mean lateness is at least about JOBS / (2B) (31 s at the
    // defaults); the bound below allows a fifth less. A worker that ran jobs ahead of the
    // budget, or a metric that counted deferred passes as started ones, would break it.
    const texts = await scrapeLoopbackMetrics(metricsPorts);
    const lateness = mergeHistograms(texts, SYNC_START_LATENESS, 'reason').get('new');
    const meanS = lateness && lateness.count > 0 ? lateness.sum / lateness.count : 0;
    process.stderr.write(`[call-path a] start lateness (planned → pass start), lane new: n=${lateness?.count ?? 0}, mean ${meanS.toFixed(1)} s\n`);
    expect(lateness?.count).toBeGreaterThanOrEqual(JOBS);
    expect(meanS).toBeGreaterThan((0.8 * JOBS) / (2 * B));
    // What each worker's start cost (the lab's CPU a sync after the start subtracts it): set once
    // it takes jobs, and a Node process cannot load its modules and list its caches for nothing.
    const startCpu = sampleValues(texts, WORKER_START_CPU);
    expect(startCpu).toHaveLength(WORKERS);
    for (const s of startCpu) expect(s).toBeGreaterThan(0.05);
  });
});
