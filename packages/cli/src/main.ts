#!/usr/bin/env node
// The herdless command: scheduler, worker, lab, bench and small tools, one process each.
import { ConfigError } from '@herdless/core';
import { runCrdsCommand } from './commands/crds.js';
import { runLabCommand } from './commands/lab.js';
import { runSchedulerCommand } from './commands/scheduler.js';
import { runWorkerCommand } from './commands/worker.js';
import { runAwsEndpointCommand } from './commands/aws-endpoint.js';

const USAGE = `herdless — sync External Secrets without stampeding the secret store

usage: herdless <command> [--flag value …]

commands:
  scheduler      leader-elected planner: watches ExternalSecrets, enqueues syncs
  worker         BullMQ worker: fetches from the store, writes Secrets and status
  lab            everything on this machine: control plane, AWS endpoint, Redis,
                 scheduler and workers, a storm, a report
  crds           print the CustomResourceDefinitions (generated from the schemas)
  aws-endpoint   run the lab's AWS Secrets Manager endpoint on its own

Flags may also be given as HERDLESS_<FLAG> environment variables.
Run "herdless <command> --help" for a command's flags.`;

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  scheduler: runSchedulerCommand,
  worker: runWorkerCommand,
  lab: runLabCommand,
  crds: runCrdsCommand,
  'aws-endpoint': runAwsEndpointCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`herdless: unknown command "${name}"; expected one of: ${Object.keys(commands).join(', ')}`);
    return 2;
  }
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof ConfigError) {
      console.error(`herdless: ${e.message}`);
      process.exitCode = 2;
      return;
    }
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
  },
);
