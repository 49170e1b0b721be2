// herdless bench planner: the planner alone at sizes the lab cannot reach on this machine
// (100,000 ExternalSecrets and more), in virtual time: the real Planner and CapacityPlacement,
// a model of the queue (lanes, planned time) and of the workers' limiter (the rate it admits on
// the budget), statuses reported back as the worker writes them. No Redis, no API server, no AWS
// endpoint: it measures the plan's shape (peaks, deadlines, de-phasing), the lab measures the system.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { planShardOf, shardBudgets } from '@herdless/scheduler';
import { peakAndMean, simulateFleet, type FleetStart } from '@herdless/scheduler/simulation';

export interface PlannerBenchSettings {
  count: number;
  intervalS: number;
  budgetRps: number;
  /** New ExternalSecrets per second during the recovery's catch-up. */
  newPerSecond: number;
  /** The share of the limiter's rate the modelled workers reach (default 1). */
  workerShare?: number;
}

export interface PlannerBenchRow {
  start: FleetStart;
  count: number;
  intervalS: number;
  budgetRps: number;
  workerShare: number;
  /** Seconds until the last item of the initial burst synced (burst, recovery). */
  burstSeconds: number | null;
  /** The burst's physical limit: items / budget. */
  physicalLimitSeconds: number | null;
  /** Over the interval that follows the burst (steady: the whole run). */
  peakRps: number;
  meanRps: number;
  peakToMean: number;
  refreshes: number;
  late: number;
  onTimeShare: number;
  /** Wall-clock seconds the simulation took (the planner's own cost at this size). */
  wallSeconds: number;
  /** Planner work per sync, in wall-clock microseconds. */
  microsPerSync: number;
}

export function runPlannerBench(settings: PlannerBenchSettings, say: (line: string) => void): PlannerBenchRow[] {
  const rows: PlannerBenchRow[] = [];
  const fleet = { count: settings.count, intervalS: settings.intervalS, budgetRps: settings.budgetRps };
  const burstGuess = Math.ceil(settings.count / settings.budgetRps);
  const workerShare = settings.workerShare ?? 1;
  for (const start of ['steady', 'created', 'overdue'] as const) {
    say(`bench planner: ${start}, ${settings.count.toLocaleString('en-US')} ExternalSecrets, interval ${settings.intervalS} s, budget ${settings.budgetRps}/s, workers at ${workerShare} of the limiter's rate (virtual time)`);
    const seconds = start === 'steady' ? 2 * settings.intervalS : Math.ceil((2 * burstGuess) / workerShare) + 2 * settings.intervalS;
    const options = { workerShare, ...(start === 'overdue' ? { arrivals: { perSecond: settings.newPerSecond, forSeconds: burstGuess } } : {}) };
    const t = process.hrtime.bigint();
    const r = simulateFleet(fleet, start, seconds, options);
    const wallSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    const from = start === 'steady' ? 0 : r.burstEnd;
    const length = start === 'steady' ? seconds - 2 : settings.intervalS;
    const { peak, mean } = peakAndMean(r.calls, from, length);
    const syncs = r.calls.reduce((a, b) => a + b, 0);
    const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;
    rows.push({
      start,
      count: settings.count,
      intervalS: settings.intervalS,
      budgetRps: settings.budgetRps,
      workerShare,
      burstSeconds: start === 'steady' ? null : r.burstEnd + 1,
      physicalLimitSeconds: start === 'steady' ? null : round(settings.count / settings.budgetRps, 1),
      peakRps: peak,
      meanRps: round(mean),
      peakToMean: round(peak / mean),
      refreshes: r.refreshes,
      late: r.late,
      onTimeShare: r.refreshes > 0 ? round(1 - r.late / r.refreshes, 4) : 1,
      wallSeconds: round(wallSeconds, 1),
      microsPerSync: syncs > 0 ? round((wallSeconds * 1e6) / syncs, 1) : 0,
    });
  }
  return rows;
}

export function formatPlannerBench(rows: PlannerBenchRow[]): string {
  const lines = ['planner (virtual time, the real Planner; no Redis, API server or AWS endpoint):'];
  for (const r of rows) {
    const burst = r.burstSeconds === null ? '' : `, burst synced in ${r.burstSeconds} s (${(r.burstSeconds / (r.physicalLimitSeconds as number)).toFixed(2)}× items/budget)`;
    lines.push(
      `  ${r.start.padEnd(8)} ${r.count.toLocaleString('en-US')} items, interval ${r.intervalS} s, budget ${r.budgetRps}/s, workers at ${r.workerShare}${burst}; ` +
        `${r.start === 'steady' ? 'two intervals' : 'the interval after'}: peak ${r.peakRps}/s, mean ${r.meanRps}/s, peak/mean ${r.peakToMean}, ` +
        `${r.refreshes.toLocaleString('en-US')} refreshes, ${(r.onTimeShare * 100).toFixed(2)} % on time (${r.late} late); ${r.wallSeconds} s wall, ${r.microsPerSync} µs/sync`,
    );
  }
  return lines.join('\n');
}

export interface ShardedPlannerBenchSettings {
  count: number;
  intervalS: number;
  /** The provider key's whole budget, divided between the shards by their demand. */
  budgetRps: number;
  /** Plan shards (each planned alone, as its owner replica plans it); 1 is the unsharded reference. */
  shards: number;
}

export interface ShardedPlannerBenchRow {
  shards: number;
  count: number;
  intervalS: number;
  budgetRps: number;
  perShard: Array<{
    shard: number;
    items: number;
    /** This shard's share of the key's budget (shardBudgets: demand-proportional, floor 10 % ÷ S). */
    budgetRps: number;
    /** Wall-clock seconds of the shard's first plan of all its items (what a new owner spends). */
    planSeconds: number;
    /** The heap the shard's plan and items hold after the first plan (MiB, after a full GC). */
    heapMiB: number;
  }>;
  /** The sum of the shards' budgets (never above budgetRps). */
  budgetSumRps: number;
  /** Calls a second over two intervals, every shard together: what the provider key sees. */
  peakRps: number;
  meanRps: number;
  peakToMean: number;
  refreshes: number;
  late: number;
  /** The longest first plan of any shard: the time to plan when each shard has its own replica. */
  planSeconds: number;
  /** The largest shard's heap: the plan memory of one replica when each holds one shard. */
  maxShardHeapMiB: number;
  wallSeconds: number;
}

/** A full GC, for heap figures that count what is held, not what waits to be collected. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * The steady fleet split into plan shards, each simulated alone on its share of the key's
 * budget, as sharded scheduler replicas plan it; their calls added second by second are what the
 * key sees. Figures per shard: its first plan's time and the heap it holds.
 */
export function runShardedPlannerBench(settings: ShardedPlannerBenchSettings, say: (line: string) => void): ShardedPlannerBenchRow {
  const gc = collectGarbage();
  const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;
  const t = process.hrtime.bigint();
  // Each shard's demand is its items' refresh rate; an item's shard is its FNV-1a hash, so the
  // counts come from a first pass of the same simulation's shard rule.
  const demands: number[] = Array.from({ length: settings.shards }, () => 0);
  const seconds = 2 * settings.intervalS;
  const perShard: ShardedPlannerBenchRow['perShard'] = [];
  const total: number[] = Array.from({ length: seconds }, () => 0);
  let refreshes = 0;
  let late = 0;
  const counts = shardCounts(settings.count, settings.shards);
  for (let i = 0; i < settings.shards; i++) demands[i] = (counts[i] as number) / settings.intervalS;
  const budgets = shardBudgets({ budgetRps: settings.budgetRps, demands, floorRps: (0.1 * settings.budgetRps) / settings.shards });
  for (let shard = 0; shard < settings.shards; shard++) {
    const budgetRps = budgets[shard] as number;
    say(`bench planner: shard ${shard + 1} of ${settings.shards}, ${(counts[shard] as number).toLocaleString('en-US')} of ${settings.count.toLocaleString('en-US')} ExternalSecrets, budget ${budgetRps}/s of ${settings.budgetRps}/s (virtual time)`);
    gc();
    const before = process.memoryUsage().heapUsed;
    let heapBytes = 0;
    const r = simulateFleet({ count: settings.count, intervalS: settings.intervalS, budgetRps }, 'steady', seconds, {
      planShard: { index: shard, of: settings.shards },
      onPlanned: () => {
        gc();
        heapBytes = process.memoryUsage().heapUsed - before;
      },
    });
    r.calls.forEach((c, k) => (total[k] = (total[k] as number) + c));
    refreshes += r.refreshes;
    late += r.late;
    perShard.push({ shard, items: r.items, budgetRps, planSeconds: round(r.planMs / 1000), heapMiB: round(heapBytes / 2 ** 20, 1) });
  }
  const { peak, mean } = peakAndMean(total, 0, seconds - 2);
  return {
    shards: settings.shards,
    count: settings.count,
    intervalS: settings.intervalS,
    budgetRps: settings.budgetRps,
    perShard,
    budgetSumRps: round(budgets.reduce((a, b) => a + b, 0)),
    peakRps: peak,
    meanRps: round(mean),
    peakToMean: round(peak / mean),
    refreshes,
    late,
    planSeconds: Math.max(...perShard.map((s) => s.planSeconds)),
    maxShardHeapMiB: Math.max(...perShard.map((s) => s.heapMiB)),
    wallSeconds: round(Number(process.hrtime.bigint() - t) / 1e9, 1),
  };
}

/** How many of the fleet's items (fleetItem's ns/es-i) fall in each plan shard. */
function shardCounts(count: number, shards: number): number[] {
  const counts: number[] = Array.from({ length: shards }, () => 0);
  for (let i = 0; i < count; i++) {
    const shard = planShardOf('ns', `es-${i}`, shards);
    counts[shard] = (counts[shard] as number) + 1;
  }
  return counts;
}

export function formatShardedPlannerBench(rows: readonly ShardedPlannerBenchRow[]): string {
  const lines = ['planner, sharded (virtual time; each shard planned alone on its share of the budget, their calls added):'];
  for (const r of rows) {
    lines.push(
      `  ${r.shards} shard(s), ${r.count.toLocaleString('en-US')} items, interval ${r.intervalS} s, budget ${r.budgetRps}/s (shares sum to ${r.budgetSumRps}/s): ` +
        `time to plan ${r.planSeconds} s (slowest shard), heap ${r.maxShardHeapMiB} MiB (largest shard); two intervals: peak ${r.peakRps}/s, mean ${r.meanRps}/s, ` +
        `peak/mean ${r.peakToMean}, ${r.refreshes.toLocaleString('en-US')} refreshes, ${r.late} late; ${r.wallSeconds} s wall`,
    );
    for (const s of r.perShard) lines.push(`    shard ${s.shard}: ${s.items.toLocaleString('en-US')} items, budget ${s.budgetRps}/s, first plan ${s.planSeconds} s, heap ${s.heapMiB} MiB`);
  }
  return lines.join('\n');
}
