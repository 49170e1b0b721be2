// Which process paused? Once a second the lab asks every process a sync depends on how it is
// doing: each worker's and scheduler's longest event-loop delay and garbage-collection time
// since the last ask (their /metrics, only the families it reads: prom-client resets the loop
// histogram on each scrape), the workers' informer restarts, one Redis PING and one read through
// the API server to etcd. A second in which the provider calls drop can then be read against
// who stalled.
import type { PauseSample } from '@herdless/lab';
import { sumMetric } from './api-server-metrics.js';

export interface ProcessFigures {
  loopMaxMs: number;
  /** Cumulative since the process started. */
  gcSeconds: number;
  informerRestarts: number;
  /** Cumulative provider calls sent, by the lane of the sync that made them. */
  sent: Record<SentLane, number>;
  /** A scheduler's planner gauges (0 on a worker): syncs planned late, its backlog's seconds. */
  plannedLate: number;
  backlogSeconds: number;
  /** Cumulative: re-spread refreshes moved behind a backlog. */
  movedRefreshes: number;
}

export const SENT_LANES = ['urgent', 'routine', 'other'] as const;
export type SentLane = (typeof SENT_LANES)[number];
const SENT_FIELD = { urgent: 'sentUrgent', routine: 'sentRoutine', other: 'sentOther' } as const satisfies Record<SentLane, keyof PauseSample>;

/**
 * The metric families the probe reads, as it asks for them (`/metrics?name=…`): a worker with
 * ESO's object metrics holds three series per ExternalSecret, and rendering them all once a
 * second was the probe's own cost in the worker's CPU (docs/cost-per-sync.md). The lag's
 * family comes first: prom-client sets the max (and resets the loop histogram) in its collect.
 */
export const PROBED_METRICS = [
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_gc_duration_seconds',
  'herdless_informer_restarts_total',
  'herdless_provider_calls_sent_total',
  'herdless_planner_late_syncs',
  'herdless_planner_backlog_seconds',
  'herdless_planner_moved_refreshes_total',
] as const;

/** The figures the probe reads from one process's Prometheus text (prom-client's defaults). */
export function processFigures(metricsText: string): ProcessFigures {
  return {
    loopMaxMs: Math.round(sumMetric(metricsText, 'nodejs_eventloop_lag_max_seconds') * 1000),
    gcSeconds: sumMetric(metricsText, 'nodejs_gc_duration_seconds_sum'),
    informerRestarts: sumMetric(metricsText, 'herdless_informer_restarts_total'),
    sent: Object.fromEntries(SENT_LANES.map((lane) => [lane, sumMetric(metricsText, 'herdless_provider_calls_sent_total', `lane="${lane}"`)])) as Record<SentLane, number>,
    plannedLate: sumMetric(metricsText, 'herdless_planner_late_syncs'),
    backlogSeconds: sumMetric(metricsText, 'herdless_planner_backlog_seconds'),
    movedRefreshes: sumMetric(metricsText, 'herdless_planner_moved_refreshes_total'),
  };
}

export interface ProbeTargets {
  workerPorts: readonly number[];
  schedulerPorts: readonly number[];
  pingRedis?: () => Promise<unknown>;
  readApi: () => Promise<unknown>;
  scrape: (port: number) => Promise<string>;
}

/** Probes every second until stopped; `samples` is keyed by the second since t0 the probe began. */
export function startPauseProbe(t0: number, targets: () => ProbeTargets, timeoutMs = 2_000): { samples: Map<number, PauseSample>; stop: () => void } {
  const samples = new Map<number, PauseSample>();
  const previous = new Map<number, ProcessFigures>();
  let busy = false;
  // A target that does not answer within timeoutMs counts as a stall of that long (the next
  // second's figures cover the rest): the probe never waits longer than that for anyone.
  const within = <T>(p: Promise<T>): Promise<T> =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref())]);
  const timed = async (what: () => Promise<unknown>): Promise<number> => {
    const start = performance.now();
    await within(what()).catch(() => undefined);
    return Math.round(performance.now() - start);
  };
  const tick = async () => {
    const t = Math.floor((Date.now() - t0) / 1000);
    const tg = targets();
    const sample: PauseSample = {};
    const scrapeAll = async (ports: readonly number[]) =>
      (
        await Promise.all(
          ports.map(async (port) => {
            try {
              const text = await within(tg.scrape(port));
              const now = processFigures(text);
              const before = previous.get(port);
              previous.set(port, now);
              return { now, before };
            } catch {
              return undefined;
            }
          }),
        )
      ).filter((x) => x !== undefined);
    const [workers, schedulers, redisMs, apiMs] = await Promise.all([
      scrapeAll(tg.workerPorts),
      scrapeAll(tg.schedulerPorts),
      tg.pingRedis ? timed(tg.pingRedis) : Promise.resolve(undefined),
      timed(tg.readApi),
    ]);
    if (workers.length > 0) {
      sample.workerLoopMaxMs = Math.max(...workers.map((w) => w.now.loopMaxMs));
      const counted = workers.filter((w) => w.before);
      if (counted.length > 0) {
        sample.workerGcMs = Math.round(counted.reduce((s, w) => s + (w.now.gcSeconds - (w.before?.gcSeconds ?? 0)), 0) * 1000);
        sample.informerRestarts = counted.reduce((s, w) => s + (w.now.informerRestarts - (w.before?.informerRestarts ?? 0)), 0);
        for (const lane of SENT_LANES) sample[SENT_FIELD[lane]] = counted.reduce((s, w) => s + (w.now.sent[lane] - (w.before?.sent[lane] ?? 0)), 0);
      }
    }
    if (schedulers.length > 0) {
      sample.schedulerLoopMaxMs = Math.max(...schedulers.map((s) => s.now.loopMaxMs));
      sample.plannedLate = schedulers.reduce((n, s) => n + s.now.plannedLate, 0);
      sample.backlogSeconds = Math.max(...schedulers.map((s) => s.now.backlogSeconds));
      sample.movedRefreshes = schedulers.reduce((n, s) => n + s.now.movedRefreshes - (s.before?.movedRefreshes ?? s.now.movedRefreshes), 0);
    }
    if (redisMs !== undefined) sample.redisMs = redisMs;
    sample.apiMs = apiMs;
    // Two probes in one second (a late timer): keep the worse of each figure, the sum of counts.
    const earlier = samples.get(t);
    samples.set(t, earlier ? mergeSamples(earlier, sample) : sample);
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void tick().finally(() => (busy = false));
  }, 1000);
  return { samples, stop: () => clearInterval(timer) };
}

function mergeSamples(a: PauseSample, b: PauseSample): PauseSample {
  const out: PauseSample = {};
  const max = (x?: number, y?: number) => (x === undefined ? y : y === undefined ? x : Math.max(x, y));
  const sum = (x?: number, y?: number) => (x === undefined ? y : y === undefined ? x : x + y);
  const set = (key: keyof PauseSample, v: number | undefined) => {
    if (v !== undefined) out[key] = v;
  };
  set('workerLoopMaxMs', max(a.workerLoopMaxMs, b.workerLoopMaxMs));
  set('workerGcMs', sum(a.workerGcMs, b.workerGcMs));
  set('informerRestarts', sum(a.informerRestarts, b.informerRestarts));
  for (const lane of SENT_LANES) set(SENT_FIELD[lane], sum(a[SENT_FIELD[lane]], b[SENT_FIELD[lane]]));
  set('schedulerLoopMaxMs', max(a.schedulerLoopMaxMs, b.schedulerLoopMaxMs));
  // Gauges: the later reading; a count: the sum.
  set('plannedLate', b.plannedLate ?? a.plannedLate);
  set('backlogSeconds', b.backlogSeconds ?? a.backlogSeconds);
  set('movedRefreshes', sum(a.movedRefreshes, b.movedRefreshes));
  set('redisMs', max(a.redisMs, b.redisMs));
  set('apiMs', max(a.apiMs, b.apiMs));
  return out;
}
