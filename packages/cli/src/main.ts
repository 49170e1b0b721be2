#!/usr/bin/env node
// The herdless command: scheduler, worker, lab, bench and small tools, one process each.
import { ConfigError } from '@herdless/core';

const USAGE = `herdless — sync External Secrets without stampeding the secret store

usage: herdless <command> [--flag value …]

commands:
  scheduler      leader-elected planner: watches ExternalSecrets, enqueues syncs
  worker         BullMQ worker: fetches from the store, writes Secrets and status
  lab            everything on this machine: control plane, AWS endpoint, Redis,
                 scheduler and workers, a storm, a report
  bench          full-size storms (time-compressed) and worker throughput:
                 figures per contender in bench/results/<date>.json
  crds           print the CustomResourceDefinitions (generated from the schemas)
  aws-endpoint   run the lab's AWS endpoint (Secrets Manager, Parameter Store) on its own;
                 faults through its control API: PUT /_herdless/faults {"errorRate":0.5}
  fault-proxy    a fault proxy in front of one process's API server or AWS endpoint:
                 --kubeconfig <file> [--out <file>] | --upstream <url> --flavor aws;
                 faults through the control URL it prints (latency, 500/429 shares,
                 cut watches, 410 Gone, pause, partition)

Flags may also be given as HERDLESS_<FLAG> environment variables.
Run "herdless <command> --help" for a command's flags.`;

// Loaded on demand: a scheduler or worker process loads only its own command's code (and a
// broken lab or bench module cannot stop a production process from starting).
const commands: Record<string, (argv: string[]) => Promise<number>> = {
  scheduler: async (argv) => (await import('./commands/scheduler.js')).runSchedulerCommand(argv),
  worker: async (argv) => (await import('./commands/worker.js')).runWorkerCommand(argv),
  lab: async (argv) => (await import('./commands/lab.js')).runLabCommand(argv),
  bench: async (argv) => (await import('./commands/bench.js')).runBenchCommand(argv),
  crds: async (argv) => (await import('./commands/crds.js')).runCrdsCommand(argv),
  'aws-endpoint': async (argv) => (await import('./commands/aws-endpoint.js')).runAwsEndpointCommand(argv),
  'fault-proxy': async (argv) => {
    await (await import('@herdless/lab')).runFaultProxyCommand(argv);
    return 0;
  },
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
