import { describe, expect, it } from 'vitest';
import { computeResult, convergeSeconds, deadlineShare, footprintOf, latenessNote, workerStartCpuOf, type ObservedRecord as FleetRecord, type RunObservation } from './figures.js';

const T0 = 1_000_000;

function observation(over: Partial<RunObservation> = {}): RunObservation {
  return {
    label: 'herdless',
    description: '',
    flags: [],
    notes: [],
    complete: true,
    count: 2,
    quotaRps: 2,
    refreshIntervalMs: 10_000,
    t0: T0,
    endMs: T0 + 5_000,
    createdAt: new Map([
      ['a', T0],
      ['b', T0 + 100],
    ]),
    records: new Map<string, FleetRecord>([
      ['a', { ready: true, readyAt: T0 + 1_000, refreshTimes: [T0 + 1_000], syncObservedAt: [T0 + 1_000] }],
      ['b', { ready: true, readyAt: T0 + 3_100, refreshTimes: [T0 + 3_000], syncObservedAt: [T0 + 3_100] }],
    ]),
    replies: [
      { atMs: T0 + 900, outcome: 'ok' },
      { atMs: T0 + 950, outcome: 'throttled' },
      { atMs: T0 + 960, outcome: 'throttled' },
      { atMs: T0 + 3_000, outcome: 'ok' },
    ],
    samples: new Map([[4, { ready: 2, queueDepth: 0, loopMaxMs: 12 }]]),
    converge: { fromMs: T0, kind: 'ready' },
    callsNeeded: 2,
    apiWrites: 6,
    redisPeakMemoryBytes: null,
    redisCommands: 50,
    redisRoundTrips: 14,
    processes: [
      { name: 'worker-1-1', cpuSeconds: 0.01, peakRssBytes: 1 },
      { name: 'worker-1-2', cpuSeconds: 0.03, peakRssBytes: 1 },
      { name: 'scheduler-1', cpuSeconds: 5, peakRssBytes: 1 },
    ],
    events: [],
    ...over,
  };
}

describe('lab figures', () => {
  it('splits calls per refresh between the part on shared remote keys (its store\'s access key) and the rest, inside the window', () => {
    const at = (ms: number, accessKeyId: string) => ({ atMs: T0 + ms, outcome: 'ok' as const, accessKeyId });
    const synced = (...ms: number[]): FleetRecord => ({ ready: true, refreshTimes: ms.map((m) => T0 + m), syncObservedAt: ms.map((m) => T0 + m) });
    const r = computeResult(
      observation({
        // s1..s3 read one shared key: one call at 2.0 s serves their three syncs; u1 and u2 a key each.
        records: new Map([
          ['s1', synced(500, 2_100)],
          ['s2', synced(600, 2_150)],
          ['s3', synced(700, 2_200)],
          ['u1', synced(800, 2_300)],
          ['u2', synced(900, 2_400)],
        ]),
        // Before the window: the first syncs, each its own call.
        replies: [at(400, 'S'), at(500, 'S'), at(600, 'S'), at(700, 'U'), at(800, 'U'), at(2_000, 'S'), at(2_250, 'U'), at(2_350, 'U')],
        window: { startMs: T0 + 1_000, endMs: T0 + 5_000 },
        sharedKeys: { names: new Set(['s1', 's2', 's3']), accessKeyId: 'S' },
      }),
    );
    expect(r.figures.sharedCallsPerRefresh).toBeCloseTo(1 / 3, 3);
    expect(r.figures.unsharedCallsPerRefresh).toBe(1);
    expect(r.figures.callsPerRefresh).toBe(0.8);
  });

  it('judges each ExternalSecret\'s deadline by its own interval when the storm mixes them', () => {
    const records = new Map<string, FleetRecord>([
      ['fast', { ready: true, refreshTimes: [T0, T0 + 10_000, T0 + 20_000, T0 + 30_000], syncObservedAt: [] }],
      ['slow', { ready: true, refreshTimes: [T0, T0 + 30_000], syncObservedAt: [T0, T0 + 30_000], refreshIntervalMs: 30_000 }],
    ]);
    // At the run's 10 s, `slow` would be 20 s late; at its own 30 s it is on time.
    expect(deadlineShare(observation({ records, endMs: T0 + 40_000, window: { startMs: T0, endMs: T0 + 40_000 } }))).toMatchObject({ due: 4, onTime: 4 });
  });

  it('finds the peak of each operation on its own, as AWS counts quotas', () => {
    const replies = [
      { atMs: T0 + 100, outcome: 'ok' as const, operation: 'GetSecretValue' },
      { atMs: T0 + 200, outcome: 'ok' as const, operation: 'GetSecretValue' },
      { atMs: T0 + 300, outcome: 'ok' as const, operation: 'BatchGetSecretValue' },
      { atMs: T0 + 1_100, outcome: 'ok' as const, operation: 'BatchGetSecretValue' },
    ];
    const r = computeResult(observation({ replies }));
    expect(r.figures.providerPeakRps).toBe(3);
    expect(r.figures.providerPeakPerOperationRps).toBe(2);
  });

  it('counts provider calls per second by outcome and finds the peak over the quota', () => {
    const r = computeResult(observation());
    expect(r.series[0]).toMatchObject({ ok: 1, throttled: 2 });
    expect(r.figures.providerPeakRps).toBe(3);
    expect(r.figures.providerPeakPerOperationRps).toBe(3);
    expect(r.figures.secondsOverQuota).toBe(1);
    expect(r.figures.throttled).toBe(2);
    expect(r.figures.callsPerRefresh).toBe(2);
    expect(r.figures.apiWritesPerSync).toBe(3);
    // The lab process's event-loop delay goes with the second it was sampled in, where sampled.
    expect(r.series[4]).toMatchObject({ ready: 2, queueDepth: 0, loopMaxMs: 12 });
    expect(r.series[3]).not.toHaveProperty('loopMaxMs');
  });

  it('charges Redis commands and the worker processes\' CPU (not the scheduler\'s) to each sync', () => {
    const r = computeResult(observation());
    expect(r.figures.redisCommandsPerSync).toBe(25);
    expect(r.figures.redisRoundTripsPerSync).toBe(7);
    expect(r.figures.workerCpuMsPerSync).toBe(20);
    expect(computeResult(observation({ redisCommands: null, redisRoundTrips: null, processes: [] })).figures).toMatchObject({
      redisCommandsPerSync: null,
      redisRoundTripsPerSync: null,
      workerCpuMsPerSync: null,
    });
  });

  it('leaves the workers\' start out of the CPU a sync after their start, only when every worker reported it', () => {
    const processes = observation().processes;
    // Two worker processes (the scheduler's gauge is never read): 0.01 + 0.03 s in all, 0.005 + 0.015 s of it before the first job.
    expect(workerStartCpuOf(processes, [0.005, 0.015])).toEqual({ workerStartCpuSeconds: 0.02 });
    expect(computeResult(observation(workerStartCpuOf(processes, [0.005, 0.015]))).figures).toMatchObject({ workerCpuMsPerSync: 20, workerCpuMsPerSyncAfterStart: 10 });
    // One of the two restarted (or its metrics were not read): no figure rather than a wrong one.
    expect(workerStartCpuOf(processes, [0.005])).toEqual({});
    expect(computeResult(observation()).figures.workerCpuMsPerSyncAfterStart).toBeNull();
  });

  it('charges a contender its own processes, Redis included, one entry per role across restarts', () => {
    const MiB = 2 ** 20;
    const processes = [
      // Stopped and started again (recovery): CPU adds up, the peak is the higher one.
      { name: 'scheduler-1-1', cpuSeconds: 2, peakRssBytes: 100 * MiB },
      { name: 'scheduler-2-1', cpuSeconds: 1, peakRssBytes: 120 * MiB },
      { name: 'worker-1-1', cpuSeconds: 3, peakRssBytes: 300 * MiB },
      { name: 'worker-1-2', cpuSeconds: 4, peakRssBytes: 310 * MiB },
      { name: 'redis-server', cpuSeconds: 1.5, peakRssBytes: 10 * MiB },
      // The control plane and our AWS endpoint serve every contender alike: not charged.
      { name: 'kube-apiserver', cpuSeconds: 50, peakRssBytes: 900 * MiB },
      { name: 'etcd', cpuSeconds: 9, peakRssBytes: 90 * MiB },
      { name: 'aws-endpoint', cpuSeconds: 7, peakRssBytes: 70 * MiB },
    ];
    const f = footprintOf(processes, 2_000);
    expect(f.processes).toEqual([
      { role: 'scheduler-1', cpuSeconds: 3, peakRssBytes: 120 * MiB },
      { role: 'worker-1', cpuSeconds: 3, peakRssBytes: 300 * MiB },
      { role: 'worker-2', cpuSeconds: 4, peakRssBytes: 310 * MiB },
      { role: 'redis-server', cpuSeconds: 1.5, peakRssBytes: 10 * MiB },
    ]);
    expect(f).toMatchObject({ cpuSeconds: 11.5, peakRssBytes: 740 * MiB, cpuSecondsPer1000Syncs: 5.75 });
    // The real ESO: one process, restarted after a kill.
    const eso = footprintOf([{ name: 'external-secrets-1', cpuSeconds: 4, peakRssBytes: 400 * MiB }, { name: 'external-secrets-2', cpuSeconds: 2, peakRssBytes: 500 * MiB }, ...processes.slice(5)], 3_000);
    expect(eso).toMatchObject({ processes: [{ role: 'external-secrets', cpuSeconds: 6, peakRssBytes: 500 * MiB }], cpuSeconds: 6, cpuSecondsPer1000Syncs: 2 });
    // Nothing synced: no per-sync figure rather than an infinite one.
    expect(footprintOf(processes, 0).cpuSecondsPer1000Syncs).toBeNull();
    expect(computeResult(observation()).figures.footprint?.cpuSeconds).toBe(0.04);
  });

  it('measures convergence against the physical limit (calls needed / quota)', () => {
    const r = computeResult(observation());
    expect(r.figures.convergeSeconds).toBe(3.1);
    expect(r.figures.physicalLimitSeconds).toBe(1);
    expect(r.figures.convergeVsLimit).toBeCloseTo(3.1);
    expect(r.figures.createToReadyP50Seconds).toBe(1);
    expect(r.figures.createToReadyP99Seconds).toBe(3);
  });

  it('does not converge while one ExternalSecret has not synced since the disruption', () => {
    expect(convergeSeconds(observation({ converge: { fromMs: T0 + 2_000, kind: 'synced' } }))).toBeNull();
  });

  it('splits the syncs after a disruption into each ExternalSecret\'s first (the catch-up) and the rest', () => {
    const records = new Map<string, FleetRecord>([
      ['a', { ready: true, refreshTimes: [], syncObservedAt: [T0 + 500, T0 + 1_200, T0 + 1_800, T0 + 3_500] }],
      ['b', { ready: true, refreshTimes: [], syncObservedAt: [T0 + 3_100] }],
      // A probe created during the storm: a new ExternalSecret, not part of the catch-up.
      ['p', { ready: true, refreshTimes: [], syncObservedAt: [T0 + 1_500] }],
    ]);
    const series = computeResult(observation({ records, converge: { fromMs: T0 + 1_000, kind: 'synced' } })).series;
    expect(series.slice(0, 4).map((s) => [s.syncs, s.catchUpSyncs])).toEqual([
      [1, 0],
      [3, 1],
      [0, 0],
      [2, 1],
    ]);
    expect(computeResult(observation()).series[0]?.catchUpSyncs).toBeUndefined();
  });

  it('measures the steady window over the whole seconds inside it (not the second it starts in)', () => {
    // 5 calls in second 0 (before the window starts at 0.5 s), then 2, 2 and 3 a second.
    const at = (ms: number[]) => ms.map((m) => ({ atMs: T0 + m, outcome: 'ok' as const }));
    const replies = at([100, 200, 300, 400, 600, 1_100, 1_600, 2_100, 2_600, 3_100, 3_400, 3_700]);
    const r = computeResult(observation({ replies, window: { startMs: T0 + 500, endMs: T0 + 4_000 } }));
    expect(r.figures.steadyPeakRps).toBe(3);
    expect(r.figures.steadyMeanRps).toBeCloseTo(7 / 3);
  });

  it('counts a refresh as on time up to the tolerance after its deadline, and a missing one as late', () => {
    const records = new Map<string, FleetRecord>([
      ['a', { ready: true, refreshTimes: [0, 10_000, 21_000, 35_000], syncObservedAt: [] }],
      ['b', { ready: true, refreshTimes: [0], syncObservedAt: [] }],
    ]);
    // Deadlines in [5 s, 40 s]: a → 10 s (on time), 20 s (1 s late: tolerated), 31 s (4 s late); b → 10 s (never).
    expect(deadlineShare(observation({ records, window: { startMs: 5_000, endMs: 40_000 } }))).toEqual({
      due: 4,
      onTime: 2,
      missed: [
        { name: 'a', deadlineMs: 31_000, lateMs: 4_000 },
        { name: 'b', deadlineMs: 10_000, lateMs: null },
      ],
    });
  });

  it('notes the missed deadlines by how late and by the second they were due, and counts them in the series', () => {
    const records = new Map<string, FleetRecord>([
      ['a', { ready: true, refreshTimes: [0, 10_000, 21_000, 35_000], syncObservedAt: [] }],
      ['b', { ready: true, refreshTimes: [0], syncObservedAt: [] }],
      ['c', { ready: true, refreshTimes: [500, 30_600], syncObservedAt: [] }],
    ]);
    const r = computeResult(observation({ records, t0: 0, endMs: 40_000, window: { startMs: 5_000, endMs: 40_000 } }));
    // c: due at 10.5 s, next seen 20.1 s later (over half the 10 s interval: one the observer missed).
    expect(r.notes).toContain('refreshes past their deadline: 3; how late: up to 5 s 1, over half an interval 1, never 1; due at t= 10 (2), 31');
    expect(r.series[10]?.lateDue).toBe(2);
    expect(r.series[31]?.lateDue).toBe(1);
    expect(r.series.filter((s) => s.lateDue !== undefined)).toHaveLength(2);
    // Grouped (the sharded storm's plan shards): a and c in one group, b in another.
    const grouped = computeResult(observation({ records, t0: 0, endMs: 40_000, window: { startMs: 5_000, endMs: 40_000 }, missedGroups: { label: 'plan shard', of: (name) => (name === 'b' ? '1' : '0') } }));
    expect(grouped.notes).toContain('refreshes past their deadline: 3; how late: up to 5 s 1, over half an interval 1, never 1; by plan shard: 0 2, 1 1; due at t= 10 (2), 31');
  });
});

describe('latenessNote', () => {
  // Two workers' /metrics, as prom-client writes a histogram (cumulative buckets, sum, count).
  const worker = (refresh: number[], news: number[]) => {
    const bounds = [0.5, 1, 5];
    const lines: string[] = ['# HELP l_seconds x', '# TYPE l_seconds histogram'];
    for (const [reason, values] of [['refresh', refresh], ['new', news]] as const) {
      for (const le of bounds) lines.push(`l_seconds_bucket{le="${le}",reason="${reason}"} ${values.filter((v) => v <= le).length}`);
      lines.push(`l_seconds_bucket{le="+Inf",reason="${reason}"} ${values.length}`);
      lines.push(`l_seconds_sum{reason="${reason}"} ${values.reduce((a, b) => a + b, 0)}`);
      lines.push(`l_seconds_count{reason="${reason}"} ${values.length}`);
    }
    return lines.join('\n');
  };

  it('merges the workers and reports each lane, most urgent first, with the share over 1 s', () => {
    const note = latenessNote([worker([0.1, 0.2, 3], [0.1]), worker([0.3, 0.4, 9, 0.2, 0.1, 0.1, 0.2], [])], 'l_seconds');
    expect(note).toBe(
      "workers' start lateness (planned time → the pass that ran; workers running at the end): " +
        'new n=1, p50 ≤ 0.5 s, p99 ≤ 0.5 s, over 1 s 0.0 %; refresh n=10, p50 ≤ 0.5 s, p99 > 5 s, over 1 s 20.0 %',
    );
  });

  it('says nothing when no worker reported the metric', () => {
    expect(latenessNote([], 'l_seconds')).toBeUndefined();
    expect(latenessNote([worker([], [])], 'l_seconds')).toBeUndefined();
  });
});
