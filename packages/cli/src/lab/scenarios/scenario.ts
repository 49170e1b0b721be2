// What a lab scenario is: what it prepares besides the storm, what starts with the storm, and
// what it does once the storm's ExternalSecrets exist (wait, stop the controller, cut the store
// off, kill the leader) until its figures can be computed. The frame around it (run-contender.ts)
// owns the world, the controller, the sampling and the figures; a scenario owns only its story.
import type { KubeConfig } from '@kubernetes/client-node';
import type { ObservedRecord, RunObservation, SharedKeyPart, StormPlan } from '@herdless/lab';
import type { Controller } from '../contenders.js';
import type { FleetObserver, FleetRecord } from '../fleet-observer.js';
import type { ContenderRun, LabSettings } from '../lab-config.js';
import type { ContenderWorld } from '../contender-world.js';

export interface ScenarioContext {
  settings: LabSettings;
  run: ContenderRun;
  world: ContenderWorld;
  controller: Controller;
  /** The storm's namespace, watched. */
  observer: FleetObserver;
  kc: KubeConfig;
  plan: StormPlan;
  /** Epoch ms the storm began (t = 0 on every axis). */
  t0: number;
  /** The storm's ExternalSecrets and when each was created. */
  createdAt: ReadonlyMap<string, number>;
  /** Where convergence is measured from when the scenario has nothing to add (the storm, or
   *  the controller's start after it with --start-after-create). */
  converge: RunObservation['converge'];
  /** The phase the progress line shows (storm, down, recovery, steady …). */
  setPhase(phase: string): void;
  /** A mark on the time axis, also said on the terminal. */
  mark(what: string): void;
  /** Waits until `ok()`; at the run's timeout, notes what it waited for and resolves false. */
  waitFor(what: string, ok: () => boolean): Promise<boolean>;
  /** Every storm ExternalSecret is Ready. */
  allReady(): boolean;
}

export interface ScenarioOutcome {
  converge: RunObservation['converge'];
  /** ExternalSecrets created during the storm besides it (recovery's new specs, other tenants'). */
  probesCreatedAt?: Map<string, number>;
  /** The steady window observed after convergence. */
  window?: RunObservation['window'];
  /** The part of the storm that reads shared remote keys (its figures are shown apart). */
  sharedKeys?: SharedKeyPart;
  /** A grouping the missed deadlines are counted by too (the sharded storm: plan shards). */
  missedGroups?: RunObservation['missedGroups'];
}

export interface Scenario {
  /** The storm, when the scenario shapes its own (default: planStorm of the run's settings). */
  plan?(settings: LabSettings): StormPlan;
  /** Before the controller starts: objects the scenario needs besides the storm's. */
  prepare?(kc: KubeConfig, region: string, budgetRps: number | undefined): Promise<void>;
  /** Once the controller has started, before the storm (not with --start-after-create). */
  afterStart?(controller: Controller): Promise<void>;
  /** As the storm starts, before its ExternalSecrets are created. */
  startWithStorm?(kc: KubeConfig, plan: StormPlan, refreshInterval: string): Promise<void>;
  /** Once the storm's ExternalSecrets exist: the scenario's disruptions and waits. */
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
  /** The records the figures are computed from (default: the storm's own). */
  records?(storm: ReadonlyMap<string, FleetRecord>): ReadonlyMap<string, ObservedRecord>;
  close?(): void;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
