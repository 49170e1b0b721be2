import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { peakAndMean } from '@herdless/lab';
import { dipNote, processFigures, startPauseProbe } from './pause-probe.js';

const METRICS = (loopMaxS: number, gcS: number, restarts: number) =>
  [
    '# HELP nodejs_eventloop_lag_max_seconds The maximum recorded event loop delay.',
    '# TYPE nodejs_eventloop_lag_max_seconds gauge',
    `nodejs_eventloop_lag_max_seconds ${loopMaxS}`,
    `nodejs_gc_duration_seconds_sum{kind="minor"} ${gcS / 2}`,
    `nodejs_gc_duration_seconds_sum{kind="major"} ${gcS / 2}`,
    `nodejs_gc_duration_seconds_count{kind="major"} 7`,
    `herdless_informer_restarts_total{informer="secrets"} ${restarts}`,
    '',
  ].join('\n');

describe('processFigures', () => {
  it('reads the loop max, the GC time over every kind and the informer restarts', () => {
    expect(processFigures(METRICS(0.2345, 1.5, 3))).toEqual({ loopMaxMs: 235, gcSeconds: 1.5, informerRestarts: 3 });
  });
});

describe('dipNote', () => {
  const totals = Array.from({ length: 10 }, (_, t) => (t === 5 ? 4 : 50));
  const windowOf = (startS: number, endS: number) => ({ startS, endS, mean: peakAndMean(totals.slice(startS, endS)).mean });
  it('names the seconds below half the window mean with the probe of that second and the next', () => {
    const note = dipNote(totals, windowOf(0, 10), new Map([[6, { workerLoopMaxMs: 1900, apiMs: 12 }]]));
    expect(note).toContain('t=5 s: 4 calls; probe [no probe]; next second [worker loop 1900 ms');
    expect(note).toContain('API 12 ms');
    expect(note).toMatch(/mean of 45\.4 calls\/s: 1:/);
  });
  it('says nothing of a window without a dip or of seconds outside it', () => {
    expect(dipNote(totals, windowOf(6, 10), new Map())).toBeUndefined();
  });
});

describe('startPauseProbe', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('differences the cumulative counters between scrapes, per port', async () => {
    let scrapes = 0;
    server = createServer((_, res) => {
      scrapes++;
      res.end(METRICS(scrapes === 1 ? 0.01 : 2.5, scrapes * 0.25, scrapes === 1 ? 0 : 2));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const probe = startPauseProbe(Date.now(), () => ({
      workerPorts: [port],
      schedulerPorts: [],
      readApi: async () => undefined,
      scrape: async (p) => (await fetch(`http://127.0.0.1:${p}/metrics`)).text(),
    }));
    const differenced = () => [...probe.samples.values()].find((s) => s.informerRestarts !== undefined);
    try {
      await expect.poll(differenced, { timeout: 5_000 }).toBeDefined();
    } finally {
      probe.stop();
    }
    // The first scrape has nothing to difference against; the first sample with differences
    // covers the second scrape: its loop max, 0.25 s more GC, 2 more restarts.
    expect(differenced()).toMatchObject({ workerLoopMaxMs: 2500, workerGcMs: 250, informerRestarts: 2 });
    expect(differenced()?.apiMs).toBeGreaterThanOrEqual(0);
  });
});
