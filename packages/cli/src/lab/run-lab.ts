// The lab: one run per contender of the same seeded storm (run-contender.ts, with the
// scenario's story in scenarios/), gathered into a report. Also what must be built before any
// timing starts, and the machine the report was measured on.
import { cpus, hostname, release, totalmem, type } from 'node:os';
import { ensureControlPlaneBinaries, ensureEsoBinary, type ContenderResult, type LabReport, type MachineInfo, type ScenarioRun } from '@herdless/lab';
import type { LabSettings } from './lab-config.js';
import type { LabProgress } from './lab-progress.js';
import { runContender } from './run-contender.js';

export { runContender } from './run-contender.js';

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    hostname: hostname(),
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cpus: cpu.length,
    memoryBytes: totalmem(),
    os: `${type()} ${release()}`,
    node: process.version,
  };
}

export function scenarioSettingsOf(s: LabSettings): ScenarioRun['settings'] {
  return {
    scenario: s.scenario,
    count: s.count,
    refreshIntervalSeconds: s.refreshIntervalMs / 1000,
    quotaRps: s.quotaRps,
    budgetRps: s.budgetRps,
    workers: s.workers,
    concurrency: s.concurrency,
    seed: s.seed,
    remoteSecrets: s.remoteSecrets,
    timeCompressed: s.timeCompressed,
    downSeconds: s.downMs / 1000,
    outageSeconds: s.outageMs / 1000,
    observeSeconds: s.observeMs / 1000,
    // The real ESO's client limits, when raised (its defaults otherwise: client QPS 50, burst 100).
    ...(s.esoClientQps !== undefined ? { esoClientQps: s.esoClientQps } : {}),
    ...(s.esoClientBurst !== undefined ? { esoClientBurst: s.esoClientBurst } : {}),
  };
}

/** Builds what the settings need before any timing starts (cold builds take minutes). */
export async function ensureToolchains(settings: LabSettings, say: (line: string) => void): Promise<void> {
  await ensureControlPlaneBinaries({ log: say });
  if (settings.contenders.some((c) => c.kind === 'eso-real')) await ensureEsoBinary({ log: say });
}

export async function runScenario(settings: LabSettings, progress: LabProgress): Promise<ScenarioRun> {
  const contenders: ContenderResult[] = [];
  for (const run of settings.contenders) contenders.push(await runContender(settings, run, progress));
  return { settings: scenarioSettingsOf(settings), contenders };
}

export function labReport(kind: LabReport['kind'], command: string, runs: ScenarioRun[], extra?: Record<string, unknown>): LabReport {
  return { kind, createdAt: new Date().toISOString(), machine: machineInfo(), command, runs, ...(extra ? { extra } : {}) };
}
