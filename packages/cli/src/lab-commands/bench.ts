// herdless bench: full-size storms in time-compressed mode and the worker throughput bench.
// Prints figures and ratios and writes bench/results/<date>/results.json (plus the HTML report
// and SVG charts beside it); it asserts nothing — benchmarks are not tests.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, parseGoDuration } from '@herdless/core';
import { ensureJaegerBinary, formatFootprint, formatSummaryMarkdown, formatSummaryTable, machineLine, startJaeger, writeReport, writeResultsJson, type JaegerProcess, type ScenarioRun } from '@herdless/lab';
import { benchConfigSchema, benchSettings, parseBenchScenarios, parseBenchTracing, workerBenchSettings } from '../bench/bench-config.js';
import { createProgress } from '../lab/lab-progress.js';
import { formatPlannerBench, formatShardedPlannerBench, runPlannerBench, runShardedPlannerBench, type PlannerBenchRow, type ShardedPlannerBenchRow } from '../bench/planner-bench.js';
import { ensureToolchains, labReport, runScenario } from '../lab/run-lab.js';
import { formatTemplateBench, runTemplateBench, type TemplateBench } from '../bench/template-bench.js';
import { formatFleetMemoryBench, runFleetMemoryBench, type FleetMemoryBench } from '../bench/fleet-memory-bench.js';
import { formatShardedMemoryBench, runShardedMemoryBench, type ShardedMemoryBench } from '../bench/sharded-memory-bench.js';
import { defaultTemplateEnginePath } from '@herdless/worker';
import type { CommandModule } from '../commands/command-spec.js';

export const benchCommand: CommandModule = {
  description:
    'Full-size storms (10,000 burst and recovery, 100,000 steady, tenant A’s 10,000 beside four neighbours) in time-compressed mode, the worker throughput ' +
    'bench and the planner in virtual time. Prints figures and ratios and writes bench/results/<date>/results.json with the ' +
    'HTML report beside it; it asserts nothing (benchmarks are not tests).',
  flags: benchConfigSchema,
  arguments: { name: '[scenarios...]', description: 'scenarios to run instead of --scenarios (burst, recovery, steady, noisy-neighbour, worker, planner, …)' },
  run: runBench,
};

async function runBench(argv: string[], positionals: string[]): Promise<number> {
  // `herdless bench worker` and `herdless bench burst steady` name scenarios positionally.
  const config = loadConfig(benchConfigSchema, positionals.length ? [...argv, '--scenarios', positionals.join(',')] : argv);
  const scenarios = parseBenchScenarios(config.scenarios);
  const progress = createProgress(config.progress);
  const runs: ScenarioRun[] = [];
  const workerRuns: ScenarioRun[] = [];
  const workerTracing: Array<{ tracing: string; tracedSyncs: number | null }> = [];
  let jaeger: JaegerProcess | undefined;
  const command = `herdless bench ${[...positionals, ...argv].join(' ')}`.trim();
  const date = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
  const outDir = resolve(config.outDir);
  await mkdir(outDir, { recursive: true });
  // One directory per run: results.json (written after every scenario) and, at the end, the
  // HTML report and charts beside it. results.json is the run's only stored copy.
  const runDir = join(outDir, date);
  const jsonPath = join(runDir, 'results.json');
  // Written after every scenario, so a long bench stopped half-way keeps what it measured.
  let planner: PlannerBenchRow[] = [];
  const plannerShards: ShardedPlannerBenchRow[] = [];
  let template: TemplateBench | undefined;
  let fleetMemory: FleetMemoryBench | undefined;
  let shardedMemory: ShardedMemoryBench | undefined;
  const save = async (worker?: unknown[]) => {
    const extra = { ...(worker?.length ? { worker } : {}), ...(planner.length ? { planner } : {}), ...(plannerShards.length ? { plannerShards } : {}), ...(template ? { template } : {}), ...(fleetMemory ? { fleetMemory } : {}), ...(shardedMemory ? { shardedMemory } : {}) };
    const report = labReport('bench', command, [...runs, ...workerRuns], Object.keys(extra).length ? extra : undefined);
    await writeResultsJson(report, runDir);
    return report;
  };
  try {
    for (const scenario of scenarios) {
      if (scenario === 'planner' && config.plannerShards > 1) {
        // The sharded plan beside the unsharded one, at the same size and budget.
        const intervalS = parseGoDuration(config.plannerRefreshInterval) / 1000;
        for (const shards of [1, config.plannerShards]) {
          plannerShards.push(runShardedPlannerBench({ count: config.plannerCount, intervalS, budgetRps: config.plannerBudgetRps, shards }, progress.say));
          await save();
        }
        continue;
      }
      if (scenario === 'planner') {
        planner = runPlannerBench(
          { count: config.plannerCount, intervalS: parseGoDuration(config.plannerRefreshInterval) / 1000, budgetRps: config.plannerBudgetRps, newPerSecond: config.plannerNewPerSecond, workerShare: config.plannerWorkerShare },
          progress.say,
        );
        await save();
        continue;
      }
      if (scenario === 'template') {
        template = await runTemplateBench({ path: config.templateEngine ?? defaultTemplateEnginePath(), threads: config.templateThreads, calls: config.templateCalls }, progress.say);
        await save();
        continue;
      }
      if (scenario === 'fleet-memory') {
        const settings = { ...benchSettings(config, 'burst'), contenders: [{ kind: 'herdless' as const, label: 'herdless' }] };
        await ensureToolchains(settings, progress.say);
        fleetMemory = await runFleetMemoryBench(settings, config.fleetMemoryCount, progress.say);
        await save();
        continue;
      }
      if (scenario === 'sharded-memory') {
        const settings = { ...benchSettings(config, 'burst'), contenders: [{ kind: 'herdless' as const, label: 'herdless' }] };
        await ensureToolchains(settings, progress.say);
        const replicas = config.shardedMemoryReplicas.split(',').map(Number);
        const opts = { count: config.shardedMemoryCount, planShards: config.shardedMemoryPlanShards, replicas, seed: config.seed, timeoutMs: config.timeoutSeconds * 1000, logLevel: config.logLevel };
        shardedMemory = await runShardedMemoryBench(opts, progress.say);
        await save();
        continue;
      }
      if (scenario === 'worker') {
        const tracings = parseBenchTracing(config.tracing);
        for (const workers of config.workerCounts.split(',').map(Number).filter((n) => n > 0)) {
          // One run per tracing setting, in one bench: the worker's CPU a sync with tracing off,
          // and with every process exporting to Jaeger at each sampling ratio.
          for (const sampleRatio of tracings) {
            const settings = workerBenchSettings(config, workers);
            await ensureToolchains(settings, progress.say);
            // A fresh Jaeger per traced run: what it stored afterwards is what that run exported.
            if (sampleRatio !== undefined) {
              await ensureJaegerBinary({ log: progress.say });
              jaeger = await startJaeger();
              settings.tracing = { otlpEndpoint: jaeger.otlpHttpEndpoint, sampleRatio };
            }
            const tracing = sampleRatio === undefined ? 'off' : String(sampleRatio);
            progress.say(`bench worker: ${settings.count} ExternalSecrets, ${workers} worker(s) × ${settings.concurrency}, quota not binding, tracing ${tracing}`);
            const run = await runScenario(settings, progress);
            run.settings.scenario = tracings.length > 1 || sampleRatio !== undefined ? `worker-${workers}w-tracing-${tracing}` : `worker-${workers}w`;
            workerRuns.push(run);
            // The processes flushed their spans when they stopped (end of the run).
            const tracedSyncs = jaeger ? (await jaeger.query.traces('herdless-worker', { operation: 'herdless.sync', limit: 100_000 })).length : null;
            workerTracing.push({ tracing, tracedSyncs });
            await jaeger?.stop();
            jaeger = undefined;
            await save();
          }
        }
        continue;
      }
      const settings = benchSettings(config, scenario);
      await ensureToolchains(settings, progress.say);
      progress.say(`bench ${scenario}: ${settings.count} ExternalSecrets, quota ${settings.quotaRps}/s, refresh ${settings.refreshInterval}`);
      runs.push(await runScenario(settings, progress));
      await save();
    }
  } finally {
    progress.close();
    await jaeger?.stop();
  }

  /** Issue 11's target for `herdless bench worker`: syncs a second per worker process. */
  const WORKER_TARGET_SYNCS_PER_SECOND = 1000;
  const worker = workerRuns.map((r, i) => {
    const c = r.contenders[0]!;
    const syncsPerSecond = c.figures.convergeSeconds ? Math.round((r.settings.count / c.figures.convergeSeconds) * 10) / 10 : null;
    const apiServerCpu = c.processes.find((p) => p.name === 'kube-apiserver')?.cpuSeconds;
    const writes = c.figures.apiWritesPerSync ? r.settings.count * c.figures.apiWritesPerSync : 0;
    const apiServerCpuMsPerWrite = apiServerCpu !== undefined && writes > 0 ? Math.round(((apiServerCpu * 1000) / writes) * 100) / 100 : null;
    return {
      workers: r.settings.workers,
      // off, or the share of syncs traced (every process exporting to Jaeger).
      tracing: workerTracing[i]?.tracing ?? 'off',
      // Syncs whose trace Jaeger stored (a check that the run traced what it says).
      tracedSyncs: workerTracing[i]?.tracedSyncs ?? null,
      concurrency: r.settings.concurrency,
      count: r.settings.count,
      seconds: c.figures.convergeSeconds,
      syncsPerSecond,
      // The issue's figure: syncs a second per worker process, against its target.
      syncsPerSecondPerWorker: syncsPerSecond === null ? null : Math.round((syncsPerSecond / r.settings.workers) * 10) / 10,
      targetSyncsPerSecondPerWorker: WORKER_TARGET_SYNCS_PER_SECOND,
      apiWritesPerSync: c.figures.apiWritesPerSync,
      // What a write cost the local API server: with the worker on the same 2 cores, the bound.
      apiServerCpuMsPerWrite,
      // The most syncs a second this machine could serve if the API server had every core and
      // the worker, etcd, Redis and the endpoint cost nothing: the bound no worker can pass here.
      apiServerBoundSyncsPerSecond:
        apiServerCpuMsPerWrite && c.figures.apiWritesPerSync ? Math.round((availableParallelism() * 1000) / (apiServerCpuMsPerWrite * c.figures.apiWritesPerSync)) : null,
      workerCpuMsPerSync: c.figures.workerCpuMsPerSync ?? null,
      redisCommandsPerSync: c.figures.redisCommandsPerSync ?? null,
      redisRoundTripsPerSync: c.figures.redisRoundTripsPerSync ?? null,
      // What one worker process could sync per second of its own CPU: the worker's ceiling
      // when nothing else (the API server above all) is the bottleneck.
      syncsPerWorkerCpuSecond: c.figures.workerCpuMsPerSync ? Math.round(1000 / c.figures.workerCpuMsPerSync) : null,
      // The same without the process's start (module loading, first informer lists): what a
      // long-running worker spends a sync.
      workerCpuMsPerSyncAfterStart: c.figures.workerCpuMsPerSyncAfterStart ?? null,
      syncsPerWorkerCpuSecondAfterStart: c.figures.workerCpuMsPerSyncAfterStart ? Math.round(1000 / c.figures.workerCpuMsPerSyncAfterStart) : null,
      processes: c.processes,
    };
  });
  const report = await save(worker);

  console.log(`\n${machineLine(report)}\n`);
  for (const run of report.runs) {
    console.log(formatSummaryTable(run));
    for (const line of formatFootprint(run)) console.log(`  ${line}`);
    console.log('');
  }
  if (planner.length) console.log(`${formatPlannerBench(planner)}\n`);
  if (plannerShards.length) console.log(`${formatShardedPlannerBench(plannerShards)}\n`);
  if (template) console.log(`${formatTemplateBench(template)}\n`);
  if (fleetMemory) console.log(`${formatFleetMemoryBench(fleetMemory)}\n`);
  if (shardedMemory) console.log(`${formatShardedMemoryBench(shardedMemory)}\n`);
  for (const w of worker) {
    console.log(
      `worker throughput: ${w.workers} worker(s) × ${w.concurrency}, tracing ${w.tracing}${w.tracedSyncs === null ? '' : ` (${w.tracedSyncs} syncs traced)`}: ${w.count} syncs in ${w.seconds ?? '–'} s = ${w.syncsPerSecond ?? '–'} syncs/s, ` +
        `${w.apiWritesPerSync ?? '–'} API writes/sync, ${w.workerCpuMsPerSync ?? '–'} worker CPU ms/sync (${w.syncsPerWorkerCpuSecond ?? '–'} syncs per worker CPU second; ` +
        `after its start ${w.workerCpuMsPerSyncAfterStart ?? '–'} ms, ${w.syncsPerWorkerCpuSecondAfterStart ?? '–'}), ` +
        `${w.redisRoundTripsPerSync ?? '–'} Redis round trips/sync (${w.redisCommandsPerSync ?? '–'} commands, Lua scripts' own included), ` +
        `API server ${w.apiServerCpuMsPerWrite ?? '–'} CPU ms/write`,
    );
    const met = w.syncsPerSecondPerWorker !== null && w.syncsPerSecondPerWorker >= w.targetSyncsPerSecondPerWorker;
    console.log(`  per worker process: ${w.syncsPerSecondPerWorker ?? '–'} syncs/s against a target of ${w.targetSyncsPerSecondPerWorker}: ${met ? 'met' : 'not met'}`);
    console.log(`  the API server alone bounds this machine (${availableParallelism()} cores) at ${w.apiServerBoundSyncsPerSecond ?? '–'} syncs/s (its CPU a write × API writes a sync)`);
  }
  // A planner-only bench has no storm: no HTML report, and the README's files stay as they are.
  if (report.runs.length === 0) {
    console.log(`\nresults: ${jsonPath}`);
    return 0;
  }
  const written = await writeReport(report, runDir);
  // The README's "Lab and bench" section embeds these two files.
  const markdown = [`Machine: ${machineLine(report)}`, '', ...report.runs.map((r) => formatSummaryMarkdown(r) + '\n')].join('\n');
  await writeFile(join(outDir, 'latest.md'), markdown + '\n');
  const burstChart = Object.keys(written.svgPaths).find((id) => id.endsWith('provider-rate'));
  if (burstChart) await copyFile(written.svgPaths[burstChart] as string, join(outDir, 'latest-provider-rate.svg'));
  console.log(`\nresults: ${jsonPath}\nreport:  ${written.htmlPath}\nREADME table: ${join(outDir, 'latest.md')}`);
  return 0;
}
