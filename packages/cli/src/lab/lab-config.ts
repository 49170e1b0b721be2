// The lab's flags: one zod object (core's loadConfig). Every size flag is optional; what is not
// given comes from the scenario's defaults, chosen so that one contender finishes in about two
// minutes once the control plane is cached (quotas are scaled down — time-compressed — so that
// a few hundred ExternalSecrets meet the same limits 10,000 meet against a real account).
import { z } from 'zod';
import { parseGoDuration } from '@herdless/core';

export const SCENARIOS = ['burst', 'recovery', 'steady', 'outage', 'failover', 'noisy-neighbour', 'sharded', 'shared-keys'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const CONTENDERS = ['herdless', 'eso', 'eso-jitter', 'eso-real'] as const;
export type ContenderKind = (typeof CONTENDERS)[number];

const positive = z.coerce.number().positive();
const count = z.coerce.number().int().min(1);

export const labConfigSchema = z.object({
  scenario: z.enum(SCENARIOS).default('burst').meta({ description: 'the storm to run' }),
  contender: z.string().default('herdless').meta({ description: 'herdless, eso, eso-jitter, eso-real or all, or a comma-separated list' }),
  count: count.max(200_000).optional().meta({ description: 'ExternalSecrets in the storm (default per scenario)' }),
  refreshInterval: z.string().optional().meta({ description: 'refreshInterval of every ExternalSecret, a Go duration (default per scenario)' }),
  quotaRps: positive.optional().meta({ description: "the AWS endpoint's GetSecretValue quota in requests a second: the physical limit (default per scenario)" }),
  budgetRps: positive.optional().meta({ description: "Herdless's budget for the store (herdless.io/budget-rps and --budgets); default: the quota" }),
  workers: count.max(32).default(2).meta({ description: 'worker processes' }),
  concurrency: count.max(10_000).default(50).meta({ description: "each worker's --concurrency" }),
  remoteSecrets: count.optional().meta({ description: 'distinct remote secrets the fleet reads; default one per ExternalSecret (no coalescing)' }),
  esoConcurrent: z.string().default('1,10').meta({ description: "ESO's --concurrent for eso-real runs, comma-separated: one run per value (1 is ESO's default)" }),
  esoClientQps: positive.optional().meta({ description: "ESO's --client-qps for eso-real runs (ESO's default: 50)" }),
  esoClientBurst: count.optional().meta({ description: "ESO's --client-burst for eso-real runs (ESO's default: 100)" }),
  seed: z.coerce.number().int().default(1).meta({ description: "storm order, remote keys, values and the comparison models' jitter derive from it" }),
  timeoutSeconds: count.default(600).meta({ description: 'stop waiting for convergence after this long (per phase)' }),
  downIntervals: positive.default(2).meta({ description: 'recovery: how long the controller stays down, in refresh intervals' }),
  outageSeconds: positive.optional().meta({ description: 'outage: how long the AWS endpoint answers 500s' }),
  observeIntervals: positive.optional().meta({ description: 'steady and recovery: how many refresh intervals are observed after convergence' }),
  reportDir: z.string().default('lab-report').meta({ description: 'where the HTML report, results and charts go' }),
  progress: z.enum(['auto', 'bars', 'lines', 'off']).default('auto').meta({ description: 'auto: bars on a terminal, lines otherwise' }),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('warn').meta({ description: "the Herdless processes' log level (their logs go to a temporary directory the lab prints)" }),
  tracing: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .transform((v) => v === true || v === 'true' || v === '1')
    .default(false)
    .meta({ description: "start Jaeger (v1.75.0, built and cached on first use), send every Herdless process's traces to it, print its UI's URL and link each contender's slowest new-spec sync to its trace; on a terminal it serves until Ctrl-C after the report" }),
});
export type LabConfig = z.infer<typeof labConfigSchema>;

/** Everything a scenario run needs, defaults applied. */
export interface LabSettings {
  scenario: ScenarioName;
  contenders: ContenderRun[];
  count: number;
  refreshInterval: string;
  refreshIntervalMs: number;
  quotaRps: number;
  budgetRps: number;
  workers: number;
  concurrency: number;
  remoteSecrets: number;
  seed: number;
  timeoutMs: number;
  downMs: number;
  outageMs: number;
  observeMs: number;
  esoClientQps?: number;
  esoClientBurst?: number;
  logLevel: LabConfig['logLevel'];
  timeCompressed: boolean;
  /** Start the controller only once the whole storm exists (the worker bench: the workers' own rate, not the creation's). */
  startAfterCreate?: boolean;
  /** The Herdless processes export their traces here, the scheduler sampling this share of syncs (the workers follow it). */
  tracing?: LabTracing;
}

/** Where a lab run's Herdless processes send their traces, and the share of syncs traced. */
export interface LabTracing {
  otlpEndpoint: string;
  sampleRatio: number;
}

/** The flags that make a Herdless process export its traces as `tracing` says. */
export function tracingFlags(tracing: LabTracing | undefined): string[] {
  if (!tracing) return [];
  return ['--otel-endpoint', tracing.otlpEndpoint, '--otel-sampler', 'parentbased_traceidratio', '--otel-sampler-arg', String(tracing.sampleRatio)];
}

/** One contender run: a kind, and for eso-real the --concurrent it runs with. */
export interface ContenderRun {
  kind: ContenderKind;
  /** The label in tables and charts (eso-real with --concurrent 10 is `eso-real-c10`). */
  label: string;
  esoConcurrent?: number;
}

interface ScenarioDefaults {
  count: number;
  refreshInterval: string;
  quotaRps: number;
  outageSeconds: number;
  observeIntervals: number;
}

/** Sized for about two minutes per contender on two cores. */
export const SCENARIO_DEFAULTS: Record<ScenarioName, ScenarioDefaults> = {
  // 300 creates at 5/s: a 60 s physical limit; ESO's 10 syncs/s (50 QPS client, ~5 calls a sync) overshoot it.
  burst: { count: 300, refreshInterval: '10m', quotaRps: 5, outageSeconds: 0, observeIntervals: 0 },
  // Synced, then down for 2 intervals, then back: the whole fleet is overdue at once.
  recovery: { count: 300, refreshInterval: '30s', quotaRps: 20, outageSeconds: 0, observeIntervals: 1.5 },
  steady: { count: 300, refreshInterval: '30s', quotaRps: 20, outageSeconds: 0, observeIntervals: 3 },
  outage: { count: 300, refreshInterval: '30s', quotaRps: 20, outageSeconds: 45, observeIntervals: 1 },
  failover: { count: 400, refreshInterval: '10m', quotaRps: 8, outageSeconds: 0, observeIntervals: 0 },
  // Tenant A creates `count` at once on the shared key (about 60 s of quota) while tenants B–E
  // each create one every 2 s (noisy-neighbour.ts): what do B–E wait?
  'noisy-neighbour': { count: 600, refreshInterval: '10m', quotaRps: 10, outageSeconds: 0, observeIntervals: 0 },
  // Three scheduler replicas share 4 plan shards (sharded.ts); one is killed a quarter into the
  // observed interval. 2,000 at 20/s: 100 s to Ready, then 6.7 refreshes a second.
  sharded: { count: 2000, refreshInterval: '5m', quotaRps: 20, outageSeconds: 0, observeIntervals: 1 },
  // 240 of 600 read one of 10 shared remote keys (shared-keys.ts), intervals 30 s, 2 m and 10 m
  // dealt in turn (--refresh-interval is the 30 s one's unit for the observed window): 30 s to
  // Ready at 20/s, then 4 minutes of routine refreshes observed.
  'shared-keys': { count: 600, refreshInterval: '30s', quotaRps: 20, outageSeconds: 0, observeIntervals: 8 },
};

export function parseContenders(text: string, esoConcurrent: string): ContenderRun[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((s) => (s === 'all' ? [...CONTENDERS] : [s]));
  const runs: ContenderRun[] = [];
  for (const name of names) {
    if (!(CONTENDERS as readonly string[]).includes(name)) {
      throw new Error(`--contender: expected herdless, eso, eso-jitter, eso-real, all or a comma-separated list of them, found "${name}"`);
    }
    if (name === 'eso-real') {
      const values = esoConcurrent.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
      if (values.length === 0) throw new Error(`--eso-concurrent: expected positive integers separated by commas, found "${esoConcurrent}"`);
      for (const c of values) runs.push({ kind: 'eso-real', label: c === 1 ? 'eso-real' : `eso-real-c${c}`, esoConcurrent: c });
    } else {
      runs.push({ kind: name as ContenderKind, label: name });
    }
  }
  return runs;
}

export function resolveLabSettings(config: LabConfig): LabSettings {
  const d = SCENARIO_DEFAULTS[config.scenario];
  const refreshInterval = config.refreshInterval ?? d.refreshInterval;
  const refreshIntervalMs = parseGoDuration(refreshInterval);
  const quotaRps = config.quotaRps ?? d.quotaRps;
  const count = config.count ?? d.count;
  return {
    scenario: config.scenario,
    contenders: parseContenders(config.contender, config.esoConcurrent),
    count,
    refreshInterval,
    refreshIntervalMs,
    quotaRps,
    budgetRps: config.budgetRps ?? quotaRps,
    workers: config.workers,
    concurrency: config.concurrency,
    remoteSecrets: config.remoteSecrets ?? count,
    seed: config.seed,
    timeoutMs: config.timeoutSeconds * 1000,
    downMs: config.downIntervals * refreshIntervalMs,
    outageMs: (config.outageSeconds ?? d.outageSeconds) * 1000,
    observeMs: (config.observeIntervals ?? d.observeIntervals) * refreshIntervalMs,
    ...(config.esoClientQps !== undefined ? { esoClientQps: config.esoClientQps } : {}),
    ...(config.esoClientBurst !== undefined ? { esoClientBurst: config.esoClientBurst } : {}),
    logLevel: config.logLevel,
    timeCompressed: true,
  };
}
