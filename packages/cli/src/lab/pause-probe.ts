// Which process paused? Once a second the lab asks every process a sync depends on how it is
// doing: each worker's and scheduler's longest event-loop delay and garbage-collection time
// since the last ask (their /metrics: prom-client resets the loop histogram on each scrape), the
// workers' informer restarts, one Redis PING and one read through the API server to etcd. A
// second in which the provider calls drop can then be read against who stalled.
import type { PauseSample } from '@herdless/lab';
import { sumMetric } from './api-server-metrics.js';

export interface ProcessFigures {
  loopMaxMs: number;
  /** Cumulative since the process started. */
  gcSeconds: number;
  informerRestarts: number;
  /** Cumulative provider calls sent, by the lane of the sync that made them. */
  sent: Record<SentLane, number>;
}

export const SENT_LANES = ['urgent', 'routine', 'other'] as const;
export type SentLane = (typeof SENT_LANES)[number];
const SENT_FIELD = { urgent: 'sentUrgent', routine: 'sentRoutine', other: 'sentOther' } as const satisfies Record<SentLane, keyof PauseSample>;

/** The figures the probe reads from one process's Prometheus text (prom-client's defaults). */
export function processFigures(metricsText: string): ProcessFigures {
  return {
    loopMaxMs: Math.round(sumMetric(metricsText, 'nodejs_eventloop_lag_max_seconds') * 1000),
    gcSeconds: sumMetric(metricsText, 'nodejs_gc_duration_seconds_sum'),
    informerRestarts: sumMetric(metricsText, 'herdless_informer_restarts_total'),
    sent: Object.fromEntries(SENT_LANES.map((lane) => [lane, sumMetric(metricsText, 'herdless_provider_calls_sent_total', `lane="${lane}"`)])) as Record<SentLane, number>,
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
    if (schedulers.length > 0) sample.schedulerLoopMaxMs = Math.max(...schedulers.map((s) => s.now.loopMaxMs));
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
  set('redisMs', max(a.redisMs, b.redisMs));
  set('apiMs', max(a.apiMs, b.apiMs));
  return out;
}

/** One second of the probe, for a note. */
function showProbe(p: PauseSample | undefined): string {
  if (p === undefined) return 'no probe';
  return [
    `sent urgent/routine/other ${p.sentUrgent ?? '?'}/${p.sentRoutine ?? '?'}/${p.sentOther ?? '?'}`,
    `worker loop ${p.workerLoopMaxMs ?? '?'} ms`,
    `worker GC ${p.workerGcMs ?? '?'} ms`,
    `relists ${p.informerRestarts ?? '?'}`,
    `scheduler loop ${p.schedulerLoopMaxMs ?? '?'} ms`,
    `Redis ${p.redisMs ?? '?'} ms`,
    `API ${p.apiMs ?? '?'} ms`,
  ].join(', ');
}

export interface NoteWindow {
  startS: number;
  endS: number;
  /** The window's mean calls per second (computeResult's steady figure). */
  mean: number;
}

/** The seconds of the window whose calls `pick` selects, each with the probe of it and of a neighbour. */
function secondsNote(
  totals: readonly number[],
  window: NoteWindow,
  probes: ReadonlyMap<number, PauseSample>,
  pick: (calls: number) => boolean,
  neighbour: { offset: number; name: string },
  title: string,
): string | undefined {
  const picked: number[] = [];
  for (let t = Math.max(0, window.startS); t < Math.min(window.endS, totals.length); t++) if (pick(totals[t] as number)) picked.push(t);
  if (picked.length === 0) return undefined;
  const lines = picked
    .slice(0, 20)
    .map((t) => `t=${t} s: ${totals[t]} calls; probe [${showProbe(probes.get(t))}]; ${neighbour.name} [${showProbe(probes.get(t + neighbour.offset))}]`);
  return `${title}: ${picked.length}${picked.length > 20 ? ' (first 20)' : ''}: ${lines.join('; ')}`;
}

/**
 * The seconds of a window in which the provider calls fell below half the window's mean, each
 * with what the probe saw in it and the second after (a stall shows in the scrape that follows
 * it), for the report's notes. `totals` are the calls per second since t0 and `mean` the window's
 * mean of them (computeResult's steady figures). Undefined when there is no such second.
 */
export function dipNote(totals: readonly number[], window: NoteWindow, probes: ReadonlyMap<number, PauseSample>): string | undefined {
  return secondsNote(
    totals,
    window,
    probes,
    (calls) => calls < window.mean / 2,
    { offset: 1, name: 'next second' },
    `seconds of the observed window below half its mean of ${window.mean.toFixed(1)} calls/s`,
  );
}

/**
 * The seconds of a window above `ratio` × its mean (the peak/mean bound), each with the probe of
 * it (which lanes the workers sent in it) and of the second before (a stall before a bump).
 */
export function peakNote(totals: readonly number[], window: NoteWindow, probes: ReadonlyMap<number, PauseSample>, ratio: number): string | undefined {
  return secondsNote(
    totals,
    window,
    probes,
    (calls) => calls > window.mean * ratio,
    { offset: -1, name: 'second before' },
    `seconds of the observed window above ${ratio} × its mean of ${window.mean.toFixed(1)} calls/s`,
  );
}
