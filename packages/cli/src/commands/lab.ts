// herdless lab: the whole system on this machine, a storm, Herdless against the reference
// controller (its models and the real binary) on identical input, and a report.
import { resolve } from 'node:path';
import { loadConfig } from '@herdless/core';
import { formatSummaryTable, modelVersusReal, writeReport } from '@herdless/lab';
import { labConfigSchema, resolveLabSettings } from '../lab/lab-config.js';
import { createProgress } from '../lab/lab-progress.js';
import { ensureToolchains, labReport, runScenario } from '../lab/run-lab.js';

const HELP = `herdless lab — a storm of ExternalSecrets against the whole system on this machine

  --scenario burst|recovery|steady|outage|failover   (default burst)
  --contender herdless|eso|eso-jitter|eso-real|all   or a comma-separated list (default herdless)
  --count N  --refresh-interval 30s  --quota-rps N  --budget-rps N  (defaults per scenario)
  --workers N (2)  --concurrency N (50)  --remote-secrets N (one per ExternalSecret)
  --eso-concurrent 1,10  (one eso-real run per value; ESO's default is 1)
  --eso-client-qps N  --eso-client-burst N  (ESO's defaults: 50 and 100)
  --seed N (1)  --timeout-seconds N (600)  --down-intervals N (2)  --outage-seconds N
  --observe-intervals N  --report-dir DIR (lab-report)  --progress auto|bars|lines|off`;

export async function runLabCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(HELP);
    return 0;
  }
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
