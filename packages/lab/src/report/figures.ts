// Every figure of a lab or bench report, defined once: its name and unit (the fields below, with
// the unit in the name), and how it is computed from what a run observed (computeResult). Pure:
// observations in, figures out, so the arithmetic is unit-tested without servers. The summary
// table, results.json and the HTML report all read these fields; none computes a figure of its own.
import { mergeHistograms, quantileUpperBound, shareAbove } from '../metrics-text.js';
import type { ContenderResult, PauseSample, SecondSample } from './lab-results.js';
import { dipNote, peakNote, plannerNote } from './pause-notes.js';

export interface ProcessUsage {
  name: string;
  /** User + system CPU time over the run. */
  cpuSeconds: number;
  /** Peak resident set size (VmHWM). */
  peakRssBytes: number;
}

export interface ContenderFigures {
  /** Highest number of provider calls in any one-second window. */
  providerPeakRps: number;
  /** The same for each operation on its own (AWS's quotas are per operation); the highest. */
  providerPeakPerOperationRps?: number;
  /** Mean over the seconds from the first to the last provider call. */
  providerMeanRps: number;
  peakToMean: number;
  /** Peak/mean over the steady window (the interval after convergence), when the scenario has one. */
  steadyPeakToMean: number | null;
  steadyPeakRps: number | null;
  steadyMeanRps: number | null;
  providerCalls: number;
  throttled: number;
  errors: number;
  /** Seconds with more calls answered than the quota allows (any outcome). */
  secondsOverQuota: number;
  /** Successful syncs observed (status.refreshTime changes). */
  syncs: number;
  /** Provider calls per successful sync. */
  callsPerRefresh: number | null;
  /** A storm with shared remote keys: calls per sync of the ExternalSecrets that read one (their
   *  store's calls) and of the others, over the observed window (the whole run without one). */
  sharedCallsPerRefresh?: number | null;
  unsharedCallsPerRefresh?: number | null;
  /** Provider calls the storm needs at least, and that divided by the quota. */
  callsNeeded: number;
  physicalLimitSeconds: number;
  /** From the start of the storm until every ExternalSecret was Ready (after the last disruption, if any). */
  convergeSeconds: number | null;
  convergeVsLimit: number | null;
  /** Burst-like runs: from the last create until every ExternalSecret was Ready (creating N takes time on a small machine). */
  readyAfterLastCreateSeconds?: number | null;
  createToReadyP50Seconds: number | null;
  createToReadyP99Seconds: number | null;
  /** Recovery: ExternalSecrets created one by one during the catch-up, and their create-to-Ready. */
  newDuringStormCount?: number;
  newDuringStormP50Seconds?: number | null;
  newDuringStormP99Seconds?: number | null;
  /** Refreshes due in the observed window that happened before their deadline (share, 0..1). */
  refreshedBeforeDeadlineShare: number | null;
  refreshesDue: number;
  /** Writes (POST/PUT/PATCH/DELETE) the controller made to the API server, and per sync. */
  apiWrites: number | null;
  apiWritesPerSync: number | null;
  redisPeakMemoryBytes: number | null;
  /** Redis commands per successful sync (all clients; Herdless contenders only). */
  redisCommandsPerSync?: number | null;
  /**
   * Redis round trips per successful sync: the server's read events (a pipelined batch is one),
   * where the command count above also counts each command a Lua script runs.
   */
  redisRoundTripsPerSync?: number | null;
  /** CPU milliseconds Herdless's worker processes spent per successful sync. */
  workerCpuMsPerSync?: number | null;
  /** The same after the workers' start: each worker's CPU when it began taking jobs (its
   *  herdless_worker_start_cpu_seconds) left out, so module loading and the first informer lists are. */
  workerCpuMsPerSyncAfterStart?: number | null;
  /** CPU and peak memory of the contender's own processes, Redis included (absent in old results). */
  footprint?: Footprint;
  allReady: boolean;
  readyCount: number;
}

/** One role of a contender's own processes: a scheduler replica, a worker, Redis or ESO's one
 *  process. A role restarted during the run (recovery, failover) is one entry: its processes' CPU
 *  added up, its peak RSS the highest of them (they never ran at once). */
export interface ProcessFootprint {
  role: string;
  cpuSeconds: number;
  peakRssBytes: number;
}

/**
 * What a contender cost this machine to run: its own processes (Herdless's schedulers, workers and
 * Redis; the real ESO's one process), not the control plane, our AWS endpoint or the lab.
 */
export interface Footprint {
  processes: ProcessFootprint[];
  /** CPU seconds of every own process together, Redis included. */
  cpuSeconds: number;
  /** The peaks of every own process added up (they run at once: what the contender needs in memory). */
  peakRssBytes: number;
  /** CPU seconds per 1,000 successful syncs. (Memory does not grow from zero with the fleet:
   *  `herdless bench fleet-memory` measures what 10,000 ExternalSecrets add.) */
  cpuSecondsPer1000Syncs: number | null;
}

/** Nearest-rank percentile of an ascending array; null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Peak and mean of per-second totals over [from, to) seconds (inclusive of zero seconds). */
export function peakAndMean(totals: readonly number[]): { peak: number; mean: number; peakToMean: number } {
  if (totals.length === 0) return { peak: 0, mean: 0, peakToMean: 0 };
  let peak = 0;
  let sum = 0;
  for (const v of totals) {
    if (v > peak) peak = v;
    sum += v;
  }
  const mean = sum / totals.length;
  return { peak, mean, peakToMean: mean > 0 ? peak / mean : 0 };
}

/** A process the lab tracked (by name) → the role it plays for its contender; undefined for the
 *  processes that are not the contender's own (control plane, AWS endpoint). */
export function processRole(name: string): string | undefined {
  const herdless = /^(scheduler|worker)-\d+-(\d+)$/.exec(name);
  if (herdless) return `${herdless[1]}-${herdless[2]}`;
  if (/^external-secrets(-\d+)?$/.test(name)) return 'external-secrets';
  if (name === REDIS_PROCESS_NAME) return name;
  return undefined;
}

/** The name the lab tracks its Redis under. */
export const REDIS_PROCESS_NAME = 'redis-server';

export function footprintOf(processes: readonly ProcessUsage[], syncs: number): Footprint {
  const roles = new Map<string, ProcessFootprint>();
  for (const p of processes) {
    const role = processRole(p.name);
    if (role === undefined) continue;
    const f = roles.get(role) ?? { role, cpuSeconds: 0, peakRssBytes: 0 };
    f.cpuSeconds += p.cpuSeconds;
    f.peakRssBytes = Math.max(f.peakRssBytes, p.peakRssBytes);
    roles.set(role, f);
  }
  const own = [...roles.values()].map((f) => ({ ...f, cpuSeconds: round(f.cpuSeconds, 2) }));
  const cpuSeconds = own.reduce((s, f) => s + f.cpuSeconds, 0);
  const peakRssBytes = own.reduce((s, f) => s + f.peakRssBytes, 0);
  return {
    processes: own,
    cpuSeconds: round(cpuSeconds, 2),
    peakRssBytes,
    cpuSecondsPer1000Syncs: syncs > 0 && own.length > 0 ? round((cpuSeconds * 1000) / syncs, 3) : null,
  };
}

const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;

export interface ProviderReply {
  atMs: number;
  outcome: 'ok' | 'throttled' | 'error';
  /** The AWS operation; quotas are per operation, as AWS's are. */
  operation?: string;
  /** The access key that signed it (an identity, not a credential): which store called. */
  accessKeyId?: string;
}

/** The highest one-second count of any single operation (what each operation's quota meets). */
export function peakPerOperation(obs: Pick<RunObservation, 'replies' | 't0'>): number {
  const counts = new Map<string, number>();
  let peak = 0;
  for (const r of obs.replies) {
    const key = `${r.operation ?? ''}@${Math.floor((r.atMs - obs.t0) / 1000)}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (n > peak) peak = n;
  }
  return peak;
}

/** What the lab observed of one ExternalSecret (the fleet observer's record). */
export interface ObservedRecord {
  /** Epoch ms of the first Ready=True observed. */
  readyAt?: number;
  ready: boolean;
  /** Every status.refreshTime seen, in order (epoch ms, second precision as the API stores it). */
  refreshTimes: number[];
  /** Epoch ms when each refreshTime change was observed. */
  syncObservedAt: number[];
  /** Its own refreshInterval, when the storm mixes intervals (else the run's). */
  refreshIntervalMs?: number;
}

/** The ExternalSecrets of a storm that read shared remote keys, and the access key of their store. */
export interface SharedKeyPart {
  names: ReadonlySet<string>;
  accessKeyId: string;
}

export interface RunObservation {
  label: string;
  description: string;
  flags: string[];
  notes: string[];
  complete: boolean;
  count: number;
  quotaRps: number;
  refreshIntervalMs: number;
  /** Epoch ms the storm began (t = 0 on every axis). */
  t0: number;
  endMs: number;
  createdAt: ReadonlyMap<string, number>;
  /** ExternalSecrets created one by one during a recovery storm (not part of the storm's figures). */
  probesCreatedAt?: ReadonlyMap<string, number>;
  records: ReadonlyMap<string, ObservedRecord>;
  replies: readonly ProviderReply[];
  /** Per second since t0: Ready count and queue depth sampled at its end. */
  samples: ReadonlyMap<number, { ready: number; queueDepth: number | null; loopMaxMs?: number }>;
  /** Per second since t0: what the pause probe saw of the other processes (see pause-probe.ts). */
  probes?: ReadonlyMap<number, PauseSample>;
  /** Convergence is measured from here: every ExternalSecret Ready (burst) or synced again (after a disruption). */
  converge: { fromMs: number; kind: 'ready' | 'synced' };
  /** The steady window (after convergence), for peak/mean and deadlines; absent for one-shot storms. */
  window?: { startMs: number; endMs: number };
  /** Calls needed at least: one per ExternalSecret to converge. */
  callsNeeded: number;
  /** A storm with shared remote keys: which part reads them (figures per part). */
  sharedKeys?: SharedKeyPart;
  /** The missed deadlines counted by a group of the ExternalSecrets too (the sharded storm: by plan shard). */
  missedGroups?: MissedGroups;
  apiWrites: number | null;
  redisPeakMemoryBytes: number | null;
  /** Commands Redis processed during the run (every client: schedulers, workers, the lab's probes). */
  redisCommands: number | null;
  /** Read events Redis processed during the run: the round trips clients made (a pipeline counts once). */
  redisRoundTrips: number | null;
  processes: ProcessUsage[];
  /** The CPU seconds Herdless's worker processes had used when they began taking jobs, added up;
   *  absent when not every worker process the run started reported it (one was restarted). */
  workerStartCpuSeconds?: number;
  events: Array<{ t: number; what: string }>;
}

/** Herdless's worker processes are named worker-<start>-<n> by the lab. */
export const WORKER_PROCESS_PREFIX = 'worker-';

/** The workers' start CPU added up, when every worker process the run started (by name) reported it. */
export function workerStartCpuOf(processes: readonly ProcessUsage[], reported: readonly number[]): { workerStartCpuSeconds?: number } {
  const started = processes.filter((p) => p.name.startsWith(WORKER_PROCESS_PREFIX)).length;
  if (started === 0 || reported.length !== started) return {};
  return { workerStartCpuSeconds: reported.reduce((a, b) => a + b, 0) };
}

/** Refreshes may land up to this much after the deadline and still count: refreshTime has one-second precision. */
export const DEADLINE_TOLERANCE_MS = 2_000;

export function perSecondSeries(obs: RunObservation): SecondSample[] {
  const lastSecond = Math.max(0, Math.floor((obs.endMs - obs.t0) / 1000));
  const series: SecondSample[] = Array.from({ length: lastSecond + 1 }, (_, t) => {
    const sample = obs.samples.get(t);
    return {
      t,
      ok: 0,
      throttled: 0,
      error: 0,
      ready: sample?.ready ?? 0,
      syncs: 0,
      queueDepth: sample?.queueDepth ?? null,
      ...(sample?.loopMaxMs === undefined ? {} : { loopMaxMs: sample.loopMaxMs }),
      ...(obs.probes?.has(t) ? { probe: obs.probes.get(t) as PauseSample } : {}),
    };
  });
  // Carry the last Ready count over seconds the sampler missed.
  for (let t = 1; t < series.length; t++) {
    const s = series[t] as SecondSample;
    if (!obs.samples.has(t)) s.ready = (series[t - 1] as SecondSample).ready;
  }
  for (const r of obs.replies) {
    const s = series[Math.floor((r.atMs - obs.t0) / 1000)];
    if (s) s[r.outcome] += 1;
  }
  const after = obs.converge.kind === 'synced' ? obs.converge.fromMs : undefined;
  if (after !== undefined) for (const s of series) s.catchUpSyncs = 0;
  for (const [name, rec] of obs.records) {
    let first = after !== undefined && obs.createdAt.has(name);
    for (const at of rec.syncObservedAt) {
      const s = series[Math.floor((at - obs.t0) / 1000)];
      if (!s) continue;
      s.syncs += 1;
      if (first && after !== undefined && at >= after) {
        s.catchUpSyncs = (s.catchUpSyncs ?? 0) + 1;
        first = false;
      }
    }
  }
  return series;
}

/** Seconds from `fromMs` until the last ExternalSecret became Ready (or synced again); null if one never did. */
export function convergeSeconds(obs: RunObservation): number | null {
  let last = obs.converge.fromMs;
  for (const name of obs.createdAt.keys()) {
    const rec = obs.records.get(name);
    if (!rec) return null;
    let at: number | undefined;
    if (obs.converge.kind === 'ready') at = rec.readyAt;
    else at = rec.syncObservedAt.find((t) => t >= obs.converge.fromMs);
    if (at === undefined) return null;
    last = Math.max(last, at);
  }
  return (last - obs.converge.fromMs) / 1000;
}

/** A refresh that missed its deadline: whose, when it was due, and how late the next one came (null: never, by the window's end). */
export interface MissedDeadline {
  name: string;
  deadlineMs: number;
  lateMs: number | null;
}

/** A grouping of the ExternalSecrets for the missed deadlines' note: `label` names it, `of` gives an ExternalSecret's group. */
export interface MissedGroups {
  label: string;
  of: (name: string) => string;
}

/**
 * Refreshes whose deadline (last refresh + interval) fell inside the window, and how many of
 * them happened by the deadline (with the tolerance). A deadline with no refresh after it by
 * the window's end is a miss.
 */
export function deadlineShare(obs: RunObservation): { due: number; onTime: number; missed: MissedDeadline[] } {
  const missed: MissedDeadline[] = [];
  if (!obs.window) return { due: 0, onTime: 0, missed };
  const { startMs, endMs } = obs.window;
  let due = 0;
  let onTime = 0;
  for (const [name, rec] of obs.records) {
    const times = rec.refreshTimes;
    for (let i = 0; i < times.length; i++) {
      const deadline = (times[i] as number) + (rec.refreshIntervalMs ?? obs.refreshIntervalMs);
      if (deadline < startMs || deadline + DEADLINE_TOLERANCE_MS > endMs) continue;
      due++;
      const next = times[i + 1];
      if (next !== undefined && next <= deadline + DEADLINE_TOLERANCE_MS) onTime++;
      else missed.push({ name, deadlineMs: deadline, lateMs: next === undefined ? null : next - deadline });
    }
  }
  return { due, onTime, missed };
}

/** How many of `items` fall under each key. */
function countBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, number> {
  const counts = new Map<K, number>();
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/**
 * The missed deadlines for the notes: how late (a refresh a whole interval late is one the
 * observer did not see, not one the controller ran late), and the seconds they were due in,
 * to read against the dips and the probe.
 */
export function missedNote(missed: readonly MissedDeadline[], t0: number, refreshIntervalMs: number, groups?: MissedGroups): string | undefined {
  if (missed.length === 0) return undefined;
  // Over half an interval first: with a short interval the fixed bands would hide it.
  const bandOf = (late: number | null) =>
    late === null ? 'never' : late > refreshIntervalMs / 2 ? 'over half an interval' : late <= 5_000 ? 'up to 5 s' : late <= 30_000 ? '5–30 s' : '30 s – half an interval';
  const order = ['up to 5 s', '5–30 s', '30 s – half an interval', 'over half an interval', 'never'];
  const counts = countBy<MissedDeadline, string>(missed, (m) => bandOf(m.lateMs));
  const byBand = order.filter((b) => counts.has(b)).map((b) => [b, counts.get(b) as number] as const);
  const bySecond = countBy(missed, (m) => Math.floor((m.deadlineMs - t0) / 1000));
  const seconds = [...bySecond].sort((a, b) => a[0] - b[0]);
  const shown = seconds.slice(0, 40).map(([t, n]) => (n > 1 ? `${t} (${n})` : String(t)));
  const grouped = groups ? `; by ${groups.label}: ${[...countBy(missed, (m) => groups.of(m.name))].sort((a, b) => a[0].localeCompare(b[0])).map(([g, n]) => `${g} ${n}`).join(', ')}` : '';
  return (
    `refreshes past their deadline: ${missed.length}; how late: ${byBand.map(([name, n]) => `${name} ${n}`).join(', ')}${grouped}; ` +
    `due at t= ${shown.join(', ')}${seconds.length > 40 ? ` … (${seconds.length} seconds in all)` : ''}`
  );
}

/**
 * Calls per sync of the shared part (calls signed by its store's access key, syncs of its
 * ExternalSecrets) and of the rest, inside the observed window (the whole run without one).
 */
export function callsPerRefreshByPart(obs: RunObservation): { shared: number | null; unshared: number | null } {
  const part = obs.sharedKeys;
  if (!part) return { shared: null, unshared: null };
  const from = obs.window?.startMs ?? -Infinity;
  const to = obs.window?.endMs ?? Infinity;
  const inside = (t: number) => t >= from && t < to;
  const calls = { shared: 0, unshared: 0 };
  for (const r of obs.replies) if (inside(r.atMs)) calls[r.accessKeyId === part.accessKeyId ? 'shared' : 'unshared']++;
  const syncs = { shared: 0, unshared: 0 };
  for (const [name, rec] of obs.records) for (const at of rec.syncObservedAt) if (inside(at)) syncs[part.names.has(name) ? 'shared' : 'unshared']++;
  return { shared: syncs.shared > 0 ? round(calls.shared / syncs.shared) : null, unshared: syncs.unshared > 0 ? round(calls.unshared / syncs.unshared) : null };
}

/** The steady window's peak/mean bound (issue 10): seconds above it are named in the notes. */
export const STEADY_PEAK_TO_MEAN_BOUND = 1.2;

export function computeResult(obs: RunObservation): ContenderResult {
  const series = perSecondSeries(obs);
  const totals = series.map((s) => s.ok + s.throttled + s.error);
  const firstActive = totals.findIndex((v) => v > 0);
  const lastActive = totals.length - 1 - [...totals].reverse().findIndex((v) => v > 0);
  const active = firstActive >= 0 ? totals.slice(firstActive, lastActive + 1) : [];
  const whole = peakAndMean(active);
  let steady: ReturnType<typeof peakAndMean> | null = null;
  const notes = [...obs.notes];
  if (obs.window) {
    // Whole seconds inside the window only: the second it starts in holds calls made before it.
    const from = Math.max(0, Math.ceil((obs.window.startMs - obs.t0) / 1000));
    const to = Math.floor((obs.window.endMs - obs.t0) / 1000);
    steady = peakAndMean(totals.slice(from, to));
    if (obs.probes) {
      const window = { startS: from, endS: to, mean: steady.mean };
      const dips = dipNote(totals, window, obs.probes);
      if (dips) notes.push(dips);
      const peaks = peakNote(totals, window, obs.probes, STEADY_PEAK_TO_MEAN_BOUND);
      if (peaks) notes.push(peaks);
      const plan = plannerNote(window, obs.probes);
      if (plan) notes.push(plan);
    }
  }
  const latencies: number[] = [];
  let readyCount = 0;
  for (const [name, created] of obs.createdAt) {
    const rec = obs.records.get(name);
    if (rec?.ready) readyCount++;
    if (rec?.readyAt !== undefined) latencies.push(Math.max(0, (rec.readyAt - created) / 1000));
  }
  latencies.sort((a, b) => a - b);
  const probeLatencies: number[] = [];
  const probes: Array<{ t: number; seconds: number }> = [];
  for (const [name, created] of obs.probesCreatedAt ?? []) {
    const at = obs.records.get(name)?.readyAt;
    // One that never became Ready counts as waiting until the end of the run.
    const seconds = Math.max(0, ((at ?? obs.endMs) - created) / 1000);
    probeLatencies.push(seconds);
    probes.push({ t: Math.round((created - obs.t0) / 100) / 10, seconds: Math.round(seconds * 1000) / 1000 });
  }
  probeLatencies.sort((a, b) => a - b);
  let lastCreate = 0;
  for (const created of obs.createdAt.values()) lastCreate = Math.max(lastCreate, created);
  let lastReady: number | null = 0;
  for (const name of obs.createdAt.keys()) {
    const at = obs.records.get(name)?.readyAt;
    lastReady = at === undefined || lastReady === null ? null : Math.max(lastReady, at);
  }
  let syncs = 0;
  for (const rec of obs.records.values()) syncs += rec.syncObservedAt.length;
  const workerCpu = obs.processes.filter((p) => p.name.startsWith(WORKER_PROCESS_PREFIX)).reduce((sum, p) => sum + p.cpuSeconds, 0);
  const workerStartCpu = obs.workerStartCpuSeconds;
  const calls = obs.replies.length;
  const throttled = obs.replies.filter((r) => r.outcome === 'throttled').length;
  const errors = obs.replies.filter((r) => r.outcome === 'error').length;
  const converge = convergeSeconds(obs);
  const physicalLimitSeconds = obs.callsNeeded / obs.quotaRps;
  const deadlines = deadlineShare(obs);
  const missed = missedNote(deadlines.missed, obs.t0, obs.refreshIntervalMs, obs.missedGroups);
  if (missed) notes.push(missed);
  for (const m of deadlines.missed) {
    const s = series[Math.floor((m.deadlineMs - obs.t0) / 1000)];
    if (s) s.lateDue = (s.lateDue ?? 0) + 1;
  }
  const figures: ContenderFigures = {
    providerPeakRps: whole.peak,
    providerPeakPerOperationRps: peakPerOperation(obs),
    providerMeanRps: round(whole.mean),
    peakToMean: round(whole.peakToMean),
    steadyPeakToMean: steady ? round(steady.peakToMean) : null,
    steadyPeakRps: steady ? steady.peak : null,
    steadyMeanRps: steady ? round(steady.mean) : null,
    providerCalls: calls,
    throttled,
    errors,
    secondsOverQuota: totals.filter((v) => v > obs.quotaRps).length,
    syncs,
    callsPerRefresh: syncs > 0 ? round(calls / syncs) : null,
    ...(obs.sharedKeys
      ? (({ shared, unshared }) => ({ sharedCallsPerRefresh: shared, unsharedCallsPerRefresh: unshared }))(callsPerRefreshByPart(obs))
      : {}),
    callsNeeded: obs.callsNeeded,
    physicalLimitSeconds: round(physicalLimitSeconds, 1),
    convergeSeconds: converge === null ? null : round(converge, 1),
    convergeVsLimit: converge === null ? null : round(converge / physicalLimitSeconds),
    readyAfterLastCreateSeconds: obs.converge.kind === 'ready' && lastReady !== null ? round(Math.max(0, lastReady - lastCreate) / 1000, 1) : null,
    createToReadyP50Seconds: percentile(latencies, 0.5),
    createToReadyP99Seconds: percentile(latencies, 0.99),
    ...(obs.probesCreatedAt
      ? {
          newDuringStormCount: probeLatencies.length,
          newDuringStormP50Seconds: percentile(probeLatencies, 0.5),
          newDuringStormP99Seconds: percentile(probeLatencies, 0.99),
        }
      : {}),
    refreshedBeforeDeadlineShare: obs.window && deadlines.due > 0 ? round(deadlines.onTime / deadlines.due, 4) : null,
    refreshesDue: deadlines.due,
    apiWrites: obs.apiWrites,
    apiWritesPerSync: obs.apiWrites !== null && syncs > 0 ? round(obs.apiWrites / syncs) : null,
    redisPeakMemoryBytes: obs.redisPeakMemoryBytes,
    redisCommandsPerSync: obs.redisCommands !== null && syncs > 0 ? round(obs.redisCommands / syncs, 1) : null,
    redisRoundTripsPerSync: obs.redisRoundTrips !== null && syncs > 0 ? round(obs.redisRoundTrips / syncs, 1) : null,
    workerCpuMsPerSync: workerCpu > 0 && syncs > 0 ? round((workerCpu * 1000) / syncs, 2) : null,
    workerCpuMsPerSyncAfterStart: workerStartCpu !== undefined && workerCpu > workerStartCpu && syncs > 0 ? round(((workerCpu - workerStartCpu) * 1000) / syncs, 2) : null,
    footprint: footprintOf(obs.processes, syncs),
    allReady: readyCount === obs.count,
    readyCount,
  };
  return {
    contender: obs.label,
    description: obs.description,
    flags: obs.flags,
    complete: obs.complete,
    notes,
    figures,
    processes: obs.processes,
    series,
    createToReadySeconds: latencies.map((v) => round(v)),
    ...(obs.probesCreatedAt ? { newDuringStorm: probes } : {}),
    events: obs.events,
  };
}

/** The order lanes are reported in (core's sync reasons, most urgent first). */
const LANES = ['new', 'changed', 'retry', 'overdue', 'refresh'];

/**
 * The workers' start lateness (planned time → start of the pass that ran the job, from their
 * herdless_sync_start_lateness_seconds histograms), per lane, as a line for the run's notes:
 * upper bounds of the median and p99 from the buckets, and the share that started over 1 s late.
 * Undefined when no worker reported any.
 */
export function latenessNote(metricsTexts: readonly string[], metric: string): string | undefined {
  const byLane = mergeHistograms(metricsTexts, metric, 'reason');
  const parts: string[] = [];
  for (const lane of [...LANES, ...[...byLane.keys()].filter((k) => !LANES.includes(k)).sort()]) {
    const h = byLane.get(lane);
    if (!h || h.count === 0) continue;
    const lastBound = h.buckets.filter((b) => Number.isFinite(b.le)).at(-1)?.le;
    const fmt = (v: number | undefined) => (v === undefined ? '?' : Number.isFinite(v) ? `≤ ${v} s` : `> ${lastBound} s`);
    const over1 = (shareAbove(h, 1) * 100).toFixed(1);
    parts.push(`${lane} n=${h.count}, p50 ${fmt(quantileUpperBound(h, 0.5))}, p99 ${fmt(quantileUpperBound(h, 0.99))}, over 1 s ${over1} %`);
  }
  return parts.length === 0 ? undefined : `workers' start lateness (planned time → the pass that ran; workers running at the end): ${parts.join('; ')}`;
}
