// The production commands: what the image and the production bundle run. Nothing here, nor in
// the modules they load, may import the lab (@herdless/lab) or the lab's commands.
import type { CommandSpec } from './command-spec.js';

export const PRODUCTION_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'scheduler',
    summary: 'leader-elected planner: watches ExternalSecrets and stores, enqueues each sync at its planned time',
    load: async () => (await import('./scheduler.js')).schedulerCommand,
  },
  {
    name: 'worker',
    summary: 'runs the syncs: fetches from the secret store within the budget, writes Secrets and status',
    load: async () => (await import('./worker.js')).workerCommand,
  },
  {
    name: 'crds',
    summary: 'prints the External Secrets CustomResourceDefinitions Herdless serves, as YAML',
    load: async () => (await import('./crds.js')).crdsCommand,
  },
];
