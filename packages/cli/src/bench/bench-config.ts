// herdless bench: the planner issue's storms at full size (10,000 burst and recovery, 100,000
// steady, tenant A's 10,000 beside four neighbours) in time-compressed mode — intervals shortened and the quota scaled so that the
// physical limit (calls needed / quota) is a minute or two — and the worker throughput bench.
import { z } from 'zod';
import { parseGoDuration } from '@herdless/core';
import { parseContenders, type LabSettings, type ScenarioName } from '../lab/lab-config.js';

export const BENCH_SCENARIOS = ['burst', 'recovery', 'steady', 'noisy-neighbour', 'worker', 'planner', 'template', 'fleet-memory', 'sharded-memory'] as const;
export type BenchScenario = (typeof BENCH_SCENARIOS)[number];

export const benchConfigSchema = z.object({
  scenarios: z.string().default('burst,recovery,steady,worker').meta({
    description: 'comma-separated: burst, recovery, steady, noisy-neighbour (the lab scenario at full size: tenant A creates 10,000 at once while tenants B–E each create one every 2 s on the same provider key), worker, planner (planner runs in virtual time), template (the template engine alone), fleet-memory (RSS per 10,000 ExternalSecrets), sharded-memory (the memory of each scheduler replica at 1 and 3 replicas with plan shards); also given as positional arguments',
  }),
  contender: z.string().default('herdless,eso,eso-jitter').meta({ description: 'contenders, comma-separated; the real ESO cannot finish 10,000 in minutes at its defaults: add eso-real explicitly' }),
  esoConcurrent: z.string().default('10').meta({ description: "ESO's --concurrent for eso-real runs, comma-separated" }),
  esoClientQps: z.coerce.number().positive().optional().meta({ description: "ESO's --client-qps for eso-real runs, as the lab's (ESO's default: 50)" }),
  esoClientBurst: z.coerce.number().int().min(1).optional().meta({ description: "ESO's --client-burst for eso-real runs, as the lab's (ESO's default: 100)" }),
  burstCount: z.coerce.number().int().min(1).default(10_000).meta({ description: 'burst: ExternalSecrets created at once' }),
  recoveryCount: z.coerce.number().int().min(1).default(10_000).meta({ description: 'recovery: ExternalSecrets overdue after the outage' }),
  steadyCount: z.coerce.number().int().min(1).default(100_000).meta({ description: 'steady: ExternalSecrets refreshed in steady state' }),
  noisyNeighbourCount: z.coerce.number().int().min(1).default(10_000).meta({ description: "noisy-neighbour: tenant A's ExternalSecrets, created at once" }),
  // Scaled quotas: under what two cores sync a second (about 60–110 with the API server on the
  // same machine), so the quota is what binds.
  burstQuotaRps: z.coerce.number().positive().default(50).meta({ description: 'burst: the scaled quota, requests a second' }),
  recoveryQuotaRps: z.coerce.number().positive().default(50).meta({ description: 'recovery: the scaled quota, requests a second' }),
  steadyQuotaRps: z.coerce.number().positive().default(80).meta({ description: 'steady: the scaled quota, requests a second' }),
  // 10,000 at 50/s: a 200 s physical limit, in which tenants B–E create about 100 each.
  noisyNeighbourQuotaRps: z.coerce.number().positive().default(50).meta({ description: 'noisy-neighbour: the scaled quota of the shared provider key, requests a second' }),
  recoveryRefreshInterval: z.string().default('5m').meta({ description: 'recovery: refresh interval (the whole fleet must fit in one interval at the routine share, 80 %)' }),
  steadyRefreshInterval: z.string().default('40m').meta({ description: 'steady: refresh interval' }),
  steadyObserveIntervals: z.coerce.number().positive().default(1).meta({ description: 'steady: refresh intervals observed after convergence' }),
  workers: z.coerce.number().int().min(1).max(32).default(2).meta({ description: 'worker processes in the storms' }),
  concurrency: z.coerce.number().int().min(1).default(100).meta({ description: "each worker's --concurrency" }),
  workerCount: z.coerce.number().int().min(1).default(3_000).meta({ description: 'worker bench: ExternalSecrets synced with a quota that never binds' }),
  workerCounts: z.string().default('1,2').meta({ description: 'worker bench: worker process counts, comma-separated, one run each' }),
  tracing: z.string().default('off').meta({
    description: 'worker bench: tracing settings, comma-separated, one run each: off, or the share of syncs traced (0.01, 1) with every process exporting to a Jaeger the bench starts',
  }),
  fleetMemoryCount: z.coerce.number().int().min(1).default(10_000).meta({ description: "fleet-memory: the fleet whose informer caches are measured (against an empty one)" }),
  shardedMemoryCount: z.coerce.number().int().min(1).default(20_000).meta({ description: 'sharded-memory: ExternalSecrets planned (sized for a 2-core machine; 100000 for the issue\'s size)' }),
  shardedMemoryReplicas: z
    .string()
    .regex(/^1(,[1-9][0-9]*)*$/, 'expected replica counts, comma-separated, the first 1 (the reference)')
    .default('1,3')
    .meta({ description: 'sharded-memory: scheduler replica counts, one run each; the first is the single replica every other is compared with' }),
  shardedMemoryPlanShards: z.coerce.number().int().min(2).max(64).default(4).meta({ description: "sharded-memory: the schedulers' --plan-shards" }),
  templateEngine: z.string().min(1).optional().meta({ description: "template: the engine's .wasm (default: as the worker's --template-engine)" }),
  templateThreads: z.coerce.number().int().min(1).max(64).default(2).meta({ description: 'template: threads, as the worker’s --template-threads' }),
  templateCalls: z.coerce.number().int().min(100).default(2_000).meta({ description: 'template: calls per template shape' }),
  plannerCount: z.coerce.number().int().min(1).max(1_000_000).default(100_000).meta({ description: 'planner (virtual time): fleet size' }),
  plannerRefreshInterval: z.string().default('1h').meta({ description: 'planner: refresh interval' }),
  plannerBudgetRps: z.coerce.number().positive().default(50).meta({ description: 'planner: budget, requests a second' }),
  plannerNewPerSecond: z.coerce.number().int().min(0).default(2).meta({ description: 'planner: new ExternalSecrets a second during the recovery' }),
  plannerShards: z.coerce.number().int().min(1).max(64).default(1).meta({
    description: 'planner: plan shards (--plan-shards); above 1, the steady fleet is also planned shard by shard on demand-proportional budgets, beside the unsharded reference, for time to plan and heap per shard',
  }),
  plannerWorkerShare: z.coerce.number().gt(0).max(1).default(1).meta({ description: "planner: the share of the limiter's rate the modelled workers reach (the lab's: 0.92–0.98)" }),
  seed: z.coerce.number().int().default(1).meta({ description: 'storm order, remote keys and values derive from it' }),
  timeoutSeconds: z.coerce.number().int().min(10).default(900).meta({ description: 'stop waiting for convergence after this long (per phase)' }),
  outDir: z.string().default('bench/results').meta({ description: 'results: <out-dir>/<date>/results.json, with the HTML report beside it' }),
  progress: z.enum(['auto', 'bars', 'lines', 'off']).default('auto').meta({ description: 'auto: bars on a terminal, lines otherwise' }),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('warn').meta({ description: "the Herdless processes' log level" }),
});
export type BenchConfig = z.infer<typeof benchConfigSchema>;

export function parseBenchScenarios(text: string): BenchScenario[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of list) {
    if (!(BENCH_SCENARIOS as readonly string[]).includes(s)) {
      throw new Error(`--scenarios: expected a comma-separated list of ${BENCH_SCENARIOS.join(', ')}, found "${s}"`);
    }
  }
  return list as BenchScenario[];
}

/** The lab settings of one bench storm. */
export function benchSettings(config: BenchConfig, scenario: Exclude<BenchScenario, 'worker' | 'planner' | 'template' | 'fleet-memory' | 'sharded-memory'>): LabSettings {
  const common = {
    contenders: parseContenders(config.contender, config.esoConcurrent),
    workers: config.workers,
    concurrency: config.concurrency,
    seed: config.seed,
    timeoutMs: config.timeoutSeconds * 1000,
    logLevel: config.logLevel,
    timeCompressed: true,
    outageMs: 0,
    ...(config.esoClientQps !== undefined ? { esoClientQps: config.esoClientQps } : {}),
    ...(config.esoClientBurst !== undefined ? { esoClientBurst: config.esoClientBurst } : {}),
  };
  const sized = (name: ScenarioName, count: number, quotaRps: number, refreshInterval: string, observeIntervals: number): LabSettings => {
    const refreshIntervalMs = parseGoDuration(refreshInterval);
    return {
      ...common,
      scenario: name,
      count,
      refreshInterval,
      refreshIntervalMs,
      quotaRps,
      budgetRps: quotaRps,
      remoteSecrets: count,
      downMs: 2 * refreshIntervalMs,
      observeMs: observeIntervals * refreshIntervalMs,
    };
  };
  switch (scenario) {
    case 'burst':
      return sized('burst', config.burstCount, config.burstQuotaRps, '1h', 0);
    case 'recovery':
      return sized('recovery', config.recoveryCount, config.recoveryQuotaRps, config.recoveryRefreshInterval, 1);
    case 'steady':
      return sized('steady', config.steadyCount, config.steadyQuotaRps, config.steadyRefreshInterval, config.steadyObserveIntervals);
    // The lab's scenario (lab/scenarios/noisy-neighbour.ts) at full size; refreshes come after the
    // storm, as the burst's do.
    case 'noisy-neighbour':
      return sized('noisy-neighbour', config.noisyNeighbourCount, config.noisyNeighbourQuotaRps, '1h', 0);
  }
}

/** Worker throughput: Herdless alone, a quota that never binds, 1..n workers. */
export function workerBenchSettings(config: BenchConfig, workers: number): LabSettings {
  return {
    ...benchSettings(config, 'burst'),
    contenders: [{ kind: 'herdless', label: `herdless-${workers}w` }],
    count: config.workerCount,
    remoteSecrets: config.workerCount,
    quotaRps: 100_000,
    budgetRps: 100_000,
    workers,
    startAfterCreate: true,
  };
}

/** --tracing: each value off (undefined) or a sampling ratio in [0, 1]. */
export function parseBenchTracing(text: string): Array<number | undefined> {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    if (s === 'off') return undefined;
    const ratio = Number(s);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new Error(`--tracing: expected off or a share of syncs between 0 and 1, found "${s}"`);
    return ratio;
  });
}
