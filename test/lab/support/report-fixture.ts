// A generated lab report for rendering tests: three contenders with the shapes a real burst
// shows (a flat line under the quota; a spike over it with throttles), from a seeded generator,
// so the test needs no control plane and every run draws the same charts.
import type { ContenderResult, LabReport, SecondSample } from '@herdless/lab';

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function contender(name: string, quota: number, count: number, shape: 'flat' | 'spike', random: () => number): ContenderResult {
  const series: SecondSample[] = [];
  let ready = 0;
  const latencies: number[] = [];
  for (let t = 0; ready < count && t < 600; t++) {
    const demand = shape === 'flat' ? quota - 1 : t < 20 ? quota * 3 : quota;
    const ok = Math.min(demand, quota, count - ready);
    const throttled = shape === 'spike' ? Math.max(0, demand - quota) : 0;
    ready += ok;
    for (let i = 0; i < ok; i++) latencies.push(t + random());
    series.push({ t, ok, throttled, error: 0, ready, syncs: ok, queueDepth: Math.max(0, count - ready - (shape === 'flat' ? count : 0) + Math.round(random() * 5)) });
  }
  latencies.sort((a, b) => a - b);
  const calls = series.reduce((s, x) => s + x.ok + x.throttled, 0);
  const peak = Math.max(...series.map((s) => s.ok + s.throttled));
  const converge = series.length;
  return {
    contender: name,
    description: `${name} (generated)`,
    flags: [`herdless scheduler --policy ${name}`],
    complete: true,
    notes: [],
    figures: {
      providerPeakRps: peak,
      providerMeanRps: calls / series.length,
      peakToMean: peak / (calls / series.length),
      steadyPeakToMean: null,
      steadyPeakRps: null,
      steadyMeanRps: null,
      providerCalls: calls,
      throttled: series.reduce((s, x) => s + x.throttled, 0),
      errors: 0,
      secondsOverQuota: series.filter((s) => s.ok + s.throttled > quota).length,
      syncs: count,
      callsPerRefresh: calls / count,
      callsNeeded: count,
      physicalLimitSeconds: count / quota,
      convergeSeconds: converge,
      convergeVsLimit: converge / (count / quota),
      createToReadyP50Seconds: latencies[Math.floor(latencies.length / 2)] ?? null,
      createToReadyP99Seconds: latencies[Math.floor(latencies.length * 0.99)] ?? null,
      refreshedBeforeDeadlineShare: null,
      refreshesDue: 0,
      apiWrites: count * 2,
      apiWritesPerSync: 2,
      redisPeakMemoryBytes: 3 * 2 ** 20,
      footprint: {
        processes: [
          { role: 'scheduler-1', cpuSeconds: 3.2, peakRssBytes: 120 * 2 ** 20 },
          { role: 'redis-server', cpuSeconds: 0.4, peakRssBytes: 9 * 2 ** 20 },
        ],
        cpuSeconds: 3.6,
        peakRssBytes: 129 * 2 ** 20,
        cpuSecondsPer1000Syncs: (3.6 * 1000) / count,
      },
      allReady: true,
      readyCount: count,
    },
    processes: [{ name: 'scheduler-1-1', cpuSeconds: 3.2, peakRssBytes: 120 * 2 ** 20 }],
    series,
    createToReadySeconds: latencies,
    events: [{ t: 1, what: 'created' }],
  };
}

export function generatedLabReport(seed = 7): LabReport {
  const random = seeded(seed);
  const quota = 20;
  const count = 600;
  return {
    kind: 'lab',
    createdAt: '2026-01-01T00:00:00.000Z',
    machine: { hostname: 'fixture', cpuModel: 'fixture CPU', cpus: 2, memoryBytes: 24 * 2 ** 30, os: 'Linux', node: 'v24' },
    command: 'generated fixture',
    runs: [
      {
        settings: { scenario: 'burst', count, refreshIntervalSeconds: 600, quotaRps: quota, budgetRps: quota, workers: 2, concurrency: 50, seed, remoteSecrets: count, timeCompressed: true },
        contenders: [
          contender('herdless', quota, count, 'flat', random),
          contender('eso', quota, count, 'spike', random),
          contender('eso-real', quota, count, 'spike', random),
        ],
      },
    ],
  };
}
