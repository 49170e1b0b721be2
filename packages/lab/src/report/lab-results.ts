// The shape of a lab or bench report (results.json): every figure per contender, plus the
// per-second series the charts are drawn from. Plain data only — the CLI fills it from what it
// observed (our AWS endpoint's request log, the API server's watch and metrics, /proc), and
// the report module renders it. Never holds a secret value. The figures themselves (name, unit,
// how each is computed) are defined in figures.ts.
import type { ContenderFigures, ProcessUsage } from './figures.js';

export type ContenderName = 'herdless' | 'eso' | 'eso-jitter' | 'eso-real' | (string & {});

export interface MachineInfo {
  hostname: string;
  cpuModel: string;
  cpus: number;
  memoryBytes: number;
  os: string;
  node: string;
}

/** One second of a contender's run; `t` counts seconds from the start of the storm. */
export interface SecondSample {
  t: number;
  /** Provider calls answered in this second, by outcome (all Secrets Manager operations). */
  ok: number;
  throttled: number;
  error: number;
  /** ExternalSecrets Ready at the end of this second. */
  ready: number;
  /** Syncs completed in this second (status.refreshTime changes observed). */
  syncs: number;
  /** After a disruption (recovery, outage): of `syncs`, those that were an ExternalSecret's first
   *  since the controller or the store came back (the catch-up); the rest are refreshes and new specs. */
  catchUpSyncs?: number;
  /** Jobs waiting or delayed on the queue (ESO: its workqueue depth); null when not observable. */
  queueDepth: number | null;
  /** The lab process's longest event-loop delay in the sampler's last second (ms). Runs before
   *  the AWS endpoint had a process of its own: it timestamped requests there, so a long one
   *  moved calls into the next second. */
  loopMaxMs?: number;
  /** Steady window: refreshes due (deadline) in this second that came later than the deadline
   *  and its tolerance, or never. */
  lateDue?: number;
  /** What the lab's per-second probe of the other processes saw (absent for ESO and old runs). */
  probe?: PauseSample;
}

/** What the probe saw in one second; a field is absent when its target did not answer in time
 *  (then the next second's figure covers the stall: the loop histogram keeps its max). */
export interface PauseSample {
  /** The longest event-loop delay of any worker since the previous scrape (ms). */
  workerLoopMaxMs?: number;
  /** Garbage-collection time of all workers together since the previous scrape (ms). */
  workerGcMs?: number;
  /** Informer restarts (relists after an error or a 410) of all workers since the previous scrape. */
  informerRestarts?: number;
  /** The scheduler's (or schedulers') longest event-loop delay since the previous scrape (ms). */
  schedulerLoopMaxMs?: number;
  /** One Redis PING, sent at the start of the second (ms; the timeout when it did not answer). */
  redisMs?: number;
  /** One quorum read through the API server (etcd included), sent at the start of the second (ms). */
  apiMs?: number;
  /** Provider calls the workers sent since the previous scrape, by the lane of the sync that
   *  made them (new/changed spec, planned refresh, retry or catch-up). Scrapes are not aligned
   *  with the endpoint's seconds: read them against the neighbouring seconds too. */
  sentUrgent?: number;
  sentRoutine?: number;
  sentOther?: number;
  /** The schedulers' syncs planned after their deadline (herdless_planner_late_syncs, summed). */
  plannedLate?: number;
  /** The longest planned backlog of new specs and catch-up any scheduler sees (herdless_planner_backlog_seconds). */
  backlogSeconds?: number;
  /** Re-spread refreshes the schedulers moved behind a backlog since the previous scrape. */
  movedRefreshes?: number;
}


export interface ContenderResult {
  contender: ContenderName;
  /** What ran: our flags, or the real ESO's version and flags. */
  description: string;
  flags: string[];
  /** False when the run stopped at its timeout before converging. */
  complete: boolean;
  notes: string[];
  figures: ContenderFigures;
  processes: ProcessUsage[];
  series: SecondSample[];
  /** Create-to-Ready latency of every ExternalSecret that became Ready (seconds, ascending). */
  createToReadySeconds: number[];
  /** New ExternalSecrets created during a recovery storm: when (s into the run) and how long to Ready. */
  newDuringStorm?: Array<{ t: number; seconds: number }>;
  /** Marks on the time axis (outage, controller stopped, leader killed …). */
  events: Array<{ t: number; what: string }>;
}

export interface ScenarioSettings {
  scenario: string;
  count: number;
  refreshIntervalSeconds: number;
  quotaRps: number;
  budgetRps: number;
  workers: number;
  concurrency: number;
  seed: number;
  remoteSecrets: number;
  /** Time-compressed: intervals shortened and budgets scaled so a run takes minutes. */
  timeCompressed: boolean;
  [key: string]: unknown;
}

export interface ScenarioRun {
  settings: ScenarioSettings;
  contenders: ContenderResult[];
}

export interface LabReport {
  kind: 'lab' | 'bench';
  createdAt: string;
  machine: MachineInfo;
  /** The command line that produced the report. */
  command: string;
  runs: ScenarioRun[];
  /** Free-form extra sections (e.g. the worker throughput bench). */
  extra?: Record<string, unknown>;
}
