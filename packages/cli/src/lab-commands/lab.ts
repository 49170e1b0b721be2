// herdless lab: the whole system on this machine, a storm, Herdless against the reference
// controller (its models and the real binary) on identical input, and a report; with --tracing,
// the Herdless processes' traces in a Jaeger the lab starts.
import { resolve } from 'node:path';
import { loadConfig } from '@herdless/core';
import { ensureJaegerBinary, formatFootprint, formatSummaryTable, modelVersusReal, startJaeger, writeReport, type JaegerProcess, type ScenarioRun, type StoredSpan } from '@herdless/lab';
import { labConfigSchema, resolveLabSettings } from '../lab/lab-config.js';
import { createProgress } from '../lab/lab-progress.js';
import { ensureToolchains, labReport, runContender, scenarioSettingsOf } from '../lab/run-lab.js';
import type { CommandModule } from '../commands/command-spec.js';

export const labCommand: CommandModule = {
  description:
    'A storm of ExternalSecrets against the whole system on this machine: the local control plane, our AWS endpoint ' +
    'with real quotas, Redis, Herdless (and the reference controller: its models and the real ESO binary) on ' +
    'identical input; prints a summary table and writes an HTML report. Exits 1 when a contender did not complete.',
  flags: labConfigSchema,
  run: runLab,
};

async function runLab(argv: string[]): Promise<number> {
  const config = loadConfig(labConfigSchema, argv);
  const settings = resolveLabSettings(config);
  const progress = createProgress(config.progress);
  let code = 0;
  let jaeger: JaegerProcess | undefined;
  try {
    await ensureToolchains(settings, progress.say);
    if (config.tracing) {
      await ensureJaegerBinary({ log: progress.say });
      jaeger = await startJaeger();
      settings.tracing = { otlpEndpoint: jaeger.otlpHttpEndpoint, sampleRatio: 1 };
      progress.say(`Jaeger ${jaeger.version}: ${jaeger.uiUrl} (every Herdless process sends its traces there)`);
    }
    // Contender by contender, so that each one's traces are those of its own time window.
    const run: ScenarioRun = { settings: scenarioSettingsOf(settings), contenders: [] };
    for (const contender of settings.contenders) {
      const sinceMs = Date.now();
      const result = await runContender(settings, contender, progress);
      if (jaeger) result.notes.push(await slowestNewSpecSync(jaeger, sinceMs, Date.now()));
      run.contenders.push(result);
    }
    progress.close();
    const report = labReport('lab', `herdless lab ${argv.join(' ')}`.trim(), [run]);
    const written = await writeReport(report, resolve(config.reportDir));
    console.log(`\n${formatSummaryTable(run)}\n`);
    for (const line of formatFootprint(run)) console.log(`  ${line}`);
    for (const line of modelVersusReal(run)) console.log(`  ${line}`);
    for (const c of run.contenders) for (const n of c.notes) console.log(`  ${c.contender}: ${n}`);
    console.log(`report: ${written.htmlPath}\n        ${written.resultsPath}\n        ${Object.keys(written.svgPaths).length} SVG charts in ${written.dir}/charts`);
    code = run.contenders.every((c) => c.complete) ? 0 : 1;
    if (jaeger) await keepServing(jaeger);
  } finally {
    progress.close();
    await jaeger?.stop();
  }
  return code;
}

/** The note linking a contender's slowest new-spec sync to its trace in Jaeger's UI. */
async function slowestNewSpecSync(jaeger: JaegerProcess, sinceMs: number, untilMs: number): Promise<string> {
  const traces = await jaeger.query.traces('herdless-worker', { operation: 'herdless.sync', tags: { 'herdless.reason': 'new' }, limit: 100_000, sinceMs, untilMs });
  const slowest = traces
    .flatMap((t) => t.spans.filter((s) => s.name === 'herdless.sync'))
    .reduce<StoredSpan | undefined>((max, s) => (max === undefined || s.durationUs > max.durationUs ? s : max), undefined);
  if (!slowest) return 'traces: no new-spec sync was traced (the real ESO does not trace)';
  return `slowest new-spec sync pass (${String(slowest.attributes['herdless.name'])}, ${Math.round(slowest.durationUs / 1000)} ms): ${jaeger.query.traceUrl(slowest.traceId)}`;
}

/** On a terminal, keeps Jaeger serving after the report until Ctrl-C. */
async function keepServing(jaeger: JaegerProcess): Promise<void> {
  console.log(`traces: ${jaeger.uiUrl}`);
  if (!process.stdin.isTTY) return;
  console.log('  Jaeger keeps serving until Ctrl-C');
  // A pending promise alone does not keep Node running (it exited with code 13, "unsettled
  // top-level await"): a timer holds the event loop open until the signal.
  const hold = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(hold);
}
