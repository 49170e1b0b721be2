import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { peakAndMean } from '@herdless/lab';
import { dipNote, peakNote, plannerNote } from '@herdless/lab';
import { processFigures, startPauseProbe } from './pause-probe.js';

const METRICS = (loopMaxS: number, gcS: number, restarts: number, sent = { urgent: 0, routine: 0, other: 0 }) =>
  [
    '# HELP nodejs_eventloop_lag_max_seconds The maximum recorded event loop delay.',
    '# TYPE nodejs_eventloop_lag_max_seconds gauge',
    `nodejs_eventloop_lag_max_seconds ${loopMaxS}`,
    `nodejs_gc_duration_seconds_sum{kind="minor"} ${gcS / 2}`,
    `nodejs_gc_duration_seconds_sum{kind="major"} ${gcS / 2}`,
    `nodejs_gc_duration_seconds_count{kind="major"} 7`,
    `herdless_informer_restarts_total{informer="secrets"} ${restarts}`,
    `herdless_provider_calls_sent_total{provider_key="aws-sm/us-east-1",operation="GetSecretValue",lane="urgent"} ${sent.urgent}`,
    `herdless_provider_calls_sent_total{provider_key="aws-sm/us-east-1",operation="GetSecretValue",lane="routine"} ${sent.routine}`,
    `herdless_provider_calls_sent_total{provider_key="aws-sm/us-east-1",operation="BatchGetSecretValue",lane="routine"} ${sent.routine}`,
    `herdless_provider_calls_sent_total{provider_key="aws-sm/us-east-1",operation="GetSecretValue",lane="other"} ${sent.other}`,
    '',
  ].join('\n');

describe('processFigures', () => {
  it('reads the loop max, the GC time over every kind and the informer restarts', () => {
    expect(processFigures(METRICS(0.2345, 1.5, 3, { urgent: 4, routine: 5, other: 6 }))).toEqual({
      loopMaxMs: 235,
      gcSeconds: 1.5,
      informerRestarts: 3,
      // Every operation of a lane counts (two routine series of 5).
      sent: { urgent: 4, routine: 10, other: 6 },
      plannedLate: 0,
      backlogSeconds: 0,
      movedRefreshes: 0,
    });
  });

  it("reads a scheduler's planner gauges: syncs planned late over every provider key, the backlog's seconds, refreshes moved", () => {
    const text = [
      'herdless_planner_late_syncs{provider_key="aws-sm|us-east-1|a|"} 3',
      'herdless_planner_late_syncs{provider_key="aws-sm|us-east-1|b|"} 4',
      'herdless_planner_backlog_seconds 812',
      'herdless_planner_moved_refreshes_total 90',
      '',
    ].join('\n');
    expect(processFigures(text)).toMatchObject({ plannedLate: 7, backlogSeconds: 812, movedRefreshes: 90 });
  });
});

describe('dipNote', () => {
  const totals = Array.from({ length: 10 }, (_, t) => (t === 5 ? 4 : 50));
  const windowOf = (startS: number, endS: number) => ({ startS, endS, mean: peakAndMean(totals.slice(startS, endS)).mean });
  it('names the seconds below half the window mean with the probe of that second and the next', () => {
    const note = dipNote(totals, windowOf(0, 10), new Map([[6, { workerLoopMaxMs: 1900, apiMs: 12 }]]));
    expect(note).toContain('t=5 s: 4 calls; probe [no probe]; next second [sent urgent/routine/other ?/?/?, worker loop 1900 ms');
    expect(note).toContain('API 12 ms');
    expect(note).toMatch(/mean of 45\.4 calls\/s: 1:/);
  });
  it('says nothing of a window without a dip or of seconds outside it', () => {
    expect(dipNote(totals, windowOf(6, 10), new Map())).toBeUndefined();
  });
});

describe('peakNote', () => {
  const totals = [50, 50, 30, 71, 50, 50];
  it('names the seconds above the bound × the mean with the lanes sent in it and the second before', () => {
    const probes = new Map([
      [2, { schedulerLoopMaxMs: 700 }],
      [3, { sentUrgent: 2, sentRoutine: 60, sentOther: 9 }],
    ]);
    const note = peakNote(totals, { startS: 0, endS: 6, mean: 50 }, probes, 1.2);
    expect(note).toContain('above 1.2 × its mean of 50.0 calls/s: 1: t=3 s: 71 calls; probe [sent urgent/routine/other 2/60/9,');
    expect(note).toContain('second before [sent urgent/routine/other ?/?/?, worker loop ? ms, worker GC ? ms, relists ?, scheduler loop 700 ms');
  });
  it('says nothing when no second is above the bound', () => {
    expect(peakNote(totals, { startS: 0, endS: 6, mean: 60 }, new Map(), 1.2)).toBeUndefined();
  });
});

describe('plannerNote', () => {
  it("gives the schedulers' most planned-late syncs and longest backlog in the window with their seconds, and the refreshes moved", () => {
    const probes = new Map([
      [1, { plannedLate: 9, backlogSeconds: 700, movedRefreshes: 50 }],
      [3, { plannedLate: 0, backlogSeconds: 20, movedRefreshes: 4 }],
      [4, { plannedLate: 12, backlogSeconds: 10, movedRefreshes: 1 }],
      [6, { plannedLate: 99, backlogSeconds: 999, movedRefreshes: 99 }],
    ]);
    expect(plannerNote({ startS: 2, endS: 6 }, probes)).toBe(
      "the schedulers' plan over the observed window: syncs planned after their deadline at most 12 (t=4 s); planned backlog of new specs and catch-up at most 20 s (t=3 s); re-spread refreshes moved behind a backlog 5",
    );
    expect(plannerNote({ startS: 2, endS: 6 }, new Map([[3, { schedulerLoopMaxMs: 5 }]]))).toBeUndefined();
  });
});

describe('startPauseProbe', () => {
  let server: Server | undefined;
  let scheduler: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await new Promise((resolve) => (scheduler ? scheduler.close(resolve) : resolve(undefined)));
  });

  it('differences the cumulative counters between scrapes, per port', async () => {
    let scrapes = 0;
    server = createServer((_, res) => {
      scrapes++;
      res.end(METRICS(scrapes === 1 ? 0.01 : 2.5, scrapes * 0.25, scrapes === 1 ? 0 : 2, { urgent: scrapes, routine: 10 * scrapes, other: 0 }));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    let schedulerScrapes = 0;
    scheduler = createServer((_, res) => {
      schedulerScrapes++;
      res.end(`herdless_planner_late_syncs{provider_key="k"} ${schedulerScrapes}\nherdless_planner_backlog_seconds 40\nherdless_planner_moved_refreshes_total ${5 * schedulerScrapes}\n`);
    });
    await new Promise<void>((resolve) => scheduler?.listen(0, '127.0.0.1', resolve));
    const schedulerPort = (scheduler.address() as { port: number }).port;
    const probe = startPauseProbe(Date.now(), () => ({
      workerPorts: [port],
      schedulerPorts: [schedulerPort],
      readApi: async () => undefined,
      scrape: async (p) => (await fetch(`http://127.0.0.1:${p}/metrics`)).text(),
    }));
    const differenced = () => [...probe.samples.values()].find((s) => s.informerRestarts !== undefined && (s.movedRefreshes ?? 0) > 0);
    try {
      await expect.poll(differenced, { timeout: 5_000 }).toBeDefined();
    } finally {
      probe.stop();
    }
    // The first scrape has nothing to difference against; the first sample with differences
    // covers the second scrape: its loop max, 0.25 s more GC, 2 more restarts.
    expect(differenced()).toMatchObject({ workerLoopMaxMs: 2500, workerGcMs: 250, informerRestarts: 2, sentUrgent: 1, sentRoutine: 20, sentOther: 0 });
    expect(differenced()?.apiMs).toBeGreaterThanOrEqual(0);
    // The scheduler's gauges as read (late syncs at its second scrape), its counter differenced.
    expect(differenced()).toMatchObject({ plannedLate: 2, backlogSeconds: 40, movedRefreshes: 5 });
  });
});
