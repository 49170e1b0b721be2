// The lab's commands: tools for this repository's tests, the lab and the bench. They run from a
// checkout only (./herdless); the production bundle and image do not ship this folder.
import type { CommandSpec } from '../commands/command-spec.js';

export const LAB_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'lab',
    summary: 'everything on this machine: control plane, AWS endpoint, Redis, scheduler and workers, a storm, a report',
    load: async () => (await import('./lab.js')).labCommand,
  },
  {
    name: 'bench',
    summary: 'full-size storms (time-compressed) and worker throughput; figures in bench/results/<date>/results.json',
    load: async () => (await import('./bench.js')).benchCommand,
  },
  {
    name: 'aws-endpoint',
    summary: "the lab's AWS endpoint (Secrets Manager, Parameter Store) with real quotas, on its own",
    load: async () => (await import('./aws-endpoint.js')).awsEndpointCommand,
  },
  {
    name: 'fault-proxy',
    summary: "a fault proxy in front of an API server or an AWS endpoint, driven through its control URL",
    load: async () => (await import('./fault-proxy.js')).faultProxyCommand,
  },
];
