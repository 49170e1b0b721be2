// Scheduler replicas as separate `herdless scheduler` processes (the checkout's built CLI) on the
// suite's control plane and Redis, for the failover, partition and plan-shard tests: one
// namespace watched, one queue prefix, the Lease `herdless-scheduler` in that namespace, short
// client-go timings. Keeps each replica's output (tests read the log lines: "leader observed",
// "released the lease") and kills whatever is left when the suite ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { injected } from './provided-context.js';

const CLI = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));

/** Lease 6 s, renew deadline 4 s, retry 1 s: takeover within lease + a retry or two. */
export const REPLICA_TIMINGS = { leaseSeconds: 6, renewDeadlineSeconds: 4, retrySeconds: 1 } as const;
export const REPLICA_LEASE_NAME = 'herdless-scheduler';

export interface SchedulerReplicas {
  /** Starts replica `identity` (the suite's kubeconfig unless another is given; `args` appended). */
  start(identity: string, opts?: { kubeconfigPath?: string; args?: string[] }): ChildProcess;
  child(identity: string): ChildProcess;
  /** Everything the replica wrote so far (stdout and stderr). */
  log(identity: string): string;
  /** Writes the last `chars` of every replica's output to stderr, for a failed test. */
  printLogs(chars: number): void;
  /** SIGKILLs every replica still running and waits for each to exit. */
  stopAll(): Promise<void>;
}

/** Resolves with the exit code (null when a signal ended it) once `child` has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

export function schedulerReplicas(opts: { namespace: string; queuePrefix: string }): SchedulerReplicas {
  const children = new Map<string, ChildProcess>();
  const logs = new Map<string, string>();
  return {
    start(identity, o = {}) {
      // The replicas run the built CLI (scripts/setup.sh builds every package before the tests).
      if (!existsSync(CLI)) throw new Error(`expected the CLI at ${CLI}; run \`pnpm build\` first`);
      const args = [CLI, 'scheduler', '--kubeconfig', o.kubeconfigPath ?? injected('kubeconfigPath'), '--redis-url', injected('redisUrl'), '--queue-prefix', opts.queuePrefix,
        '--namespace', opts.namespace, '--watch-namespace', opts.namespace, '--lease-name', REPLICA_LEASE_NAME, '--identity', identity,
        '--lease-duration-seconds', String(REPLICA_TIMINGS.leaseSeconds), '--renew-deadline-seconds', String(REPLICA_TIMINGS.renewDeadlineSeconds),
        '--retry-period-seconds', String(REPLICA_TIMINGS.retrySeconds), '--log-level', 'info', ...(o.args ?? [])];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HERDLESS_METRICS_PORT: '0' } });
      logs.set(identity, '');
      const append = (b: Buffer): void => void logs.set(identity, (logs.get(identity) ?? '') + b.toString());
      child.stdout?.on('data', append);
      child.stderr?.on('data', append);
      children.set(identity, child);
      return child;
    },
    child(identity) {
      const child = children.get(identity);
      if (!child) throw new Error(`expected a replica ${identity}, started: ${[...children.keys()].join(', ')}`);
      return child;
    },
    log: (identity) => logs.get(identity) ?? '',
    printLogs(chars) {
      for (const [identity, text] of logs) process.stderr.write(`--- ${identity} log (last ${chars} chars) ---\n${text.slice(-chars)}\n`);
    },
    async stopAll() {
      for (const c of children.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await Promise.all([...children.values()].map(exited));
    },
  };
}
