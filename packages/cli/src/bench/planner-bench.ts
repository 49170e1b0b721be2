// herdless bench planner: the planner alone at sizes the lab cannot reach on this machine
// (100,000 ExternalSecrets and more), in virtual time: the real Planner and CapacityPlacement,
// a model of the queue (lanes, planned time) and of the workers' limiter (the rate it admits on
// the budget), statuses reported back as the worker writes them. No Redis, no API server, no AWS
// endpoint: it measures the plan's shape (peaks, deadlines, de-phasing), the lab measures the system.
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
