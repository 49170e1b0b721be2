import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LabReport, SecondSample } from './lab-results.js';
import { formatResultsJson, reportFromStored, writeResultsJson } from './stored-results.js';

function report(seconds: number): LabReport {
  const series: SecondSample[] = Array.from({ length: seconds }, (_, t) => ({
    t,
    ok: t % 5,
    throttled: t === 3 ? 2 : 0,
    error: 0,
    ready: t * 4,
    syncs: t % 5,
    // Not observable in some seconds (ESO's metrics did not answer): null, kept as null.
    queueDepth: t % 7 === 0 ? null : 100 - t,
    ...(t % 2 === 0 ? { loopMaxMs: 3 } : {}),
    ...(t > 2 ? { catchUpSyncs: 1 } : {}),
    // The probe misses a target now and then: a field absent, never invented.
    ...(t % 3 === 0 ? {} : { probe: { redisMs: 0.4, ...(t % 4 === 0 ? {} : { workerLoopMaxMs: 11 }) } }),
  }));
  return {
    kind: 'bench',
    createdAt: '2026-12-06T12:00:00.000Z',
    machine: { hostname: 'h', cpuModel: 'cpu', cpus: 2, memoryBytes: 1, os: 'Linux', node: 'v24' },
    command: 'herdless bench burst',
    runs: [
      {
        settings: { scenario: 'burst', count: 10, refreshIntervalSeconds: 3600, quotaRps: 5, budgetRps: 5, workers: 2, concurrency: 10, seed: 1, remoteSecrets: 10, timeCompressed: true },
        contenders: [
          {
            contender: 'herdless',
            description: 'd',
            flags: [],
            complete: true,
            notes: [],
            figures: {} as LabReport['runs'][number]['contenders'][number]['figures'],
            processes: [],
            series,
            createToReadySeconds: [0.5, 1.25, 2],
            events: [{ t: 1, what: 'created' }],
          },
        ],
      },
    ],
  };
}

describe('results.json', () => {
  it('reads back exactly the report the lab built', () => {
    const r = report(40);
    expect(reportFromStored(JSON.parse(formatResultsJson(r)))).toEqual(r);
  });

  it('stores the per-second series as one array of numbers per field, each on one line', () => {
    const text = formatResultsJson(report(600));
    const stored = JSON.parse(text) as { runs: Array<{ contenders: Array<{ series: { columns: Record<string, unknown[]> } }> }> };
    const columns = stored.runs[0]?.contenders[0]?.series.columns ?? {};
    expect(Object.keys(columns).sort()).toEqual(['catchUpSyncs', 'error', 'loopMaxMs', 'ok', 'probe.redisMs', 'probe.workerLoopMaxMs', 'queueDepth', 'ready', 'syncs', 't', 'throttled']);
    for (const values of Object.values(columns)) expect(values).toHaveLength(600);
    // No object per second: the field names appear once, not 600 times.
    expect(text.split('"throttled"').length - 1).toBe(1);
    expect(text).toMatch(/"ok": \[0,1,2,3,4,0,1,/);
    // An object per second, indented, took about 5 × the space.
    expect(text.length * 4).toBeLessThan(JSON.stringify(report(600), null, 2).length);
  });

  it('reads the old form (an object per second) too', () => {
    const r = report(12);
    expect(reportFromStored(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it('writes one file per run: <dir>/results.json, nothing beside the directory', async () => {
    const out = await mkdtemp(join(tmpdir(), 'herdless-results-'));
    try {
      const path = await writeResultsJson(report(5), join(out, '2026-12-06T12-00-00'));
      // The bench writes after every scenario: the second write replaces the first.
      await writeResultsJson(report(6), join(out, '2026-12-06T12-00-00'));
      expect(path).toBe(join(out, '2026-12-06T12-00-00', 'results.json'));
      expect(await readdir(out)).toEqual(['2026-12-06T12-00-00']);
      expect(await readdir(join(out, '2026-12-06T12-00-00'))).toEqual(['results.json']);
      expect(reportFromStored(JSON.parse(await readFile(path, 'utf8'))).runs[0]?.contenders[0]?.series).toHaveLength(6);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
