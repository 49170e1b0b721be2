// herdless lab: the whole system on this machine, a storm, Herdless against the reference
// controller (its models and the real binary) on identical input, and a report.
import { resolve } from 'node:path';
import { loadConfig } from '@herdless/core';
import { formatSummaryTable, modelVersusReal, writeReport } from '@herdless/lab';
import { labConfigSchema, resolveLabSettings } from '../lab/lab-config.js';
import { createProgress } from '../lab/lab-progress.js';
import { ensureToolchains, labReport, runScenario } from '../lab/run-lab.js';
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
  try {
    await ensureToolchains(settings, progress.say);
    const run = await runScenario(settings, progress);
    progress.close();
    const report = labReport('lab', `herdless lab ${argv.join(' ')}`.trim(), [run]);
    const written = await writeReport(report, resolve(config.reportDir));
    console.log(`\n${formatSummaryTable(run)}\n`);
    for (const line of modelVersusReal(run)) console.log(`  ${line}`);
    for (const c of run.contenders) for (const n of c.notes) console.log(`  ${c.contender}: ${n}`);
    console.log(`report: ${written.htmlPath}\n        ${written.resultsPath}\n        ${Object.keys(written.svgPaths).length} SVG charts in ${written.dir}/charts`);
    code = run.contenders.every((c) => c.complete) ? 0 : 1;
  } finally {
    progress.close();
  }
  return code;
}
