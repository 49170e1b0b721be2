// The rig every chaos scenario stands on, set up once per file by `useChaosRig`: a Redis of its
// own (faults to it touch no other file), our AWS endpoint enforcing the budget on
// GetSecretValue, and Herdless as a cluster runs it (a scheduler and workers as separate
// processes with the chart's RBAC) planning and limiting at that budget. Its afterAll prints the
// scenario's figures and stops everything it started (Herdless's processes first, then the
// parts a test registered with `onStop`, then Redis), whether the tests passed, failed or the
// set-up itself failed half-way.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { startAwsEndpointProcess } from '@herdless/cli';
import { startRedisTopology, type AwsFaultsState, type RedisTopology, type RedisTopologyKind, type RequestRecord } from '@herdless/lab';
import { spawnHerdless, type HerdlessProcess } from '../e2e/support/processes.js';
import { startSecurityEnv, type HerdlessOptions, type SecurityEnv } from '../security/support/security-env.js';

/** What the scenarios read and switch of the endpoint, whether it runs in the test's process or its own. */
export interface EndpointLog {
  /** Seeds (or rotates) a remote secret. */
  putSecret(secret: { name: string; secretString: string }): Promise<void>;
  /** Every AWS request the endpoint decided, oldest first. */
  requests(): Promise<RequestRecord[]>;
  /** Its faults: `update` takes what AwsEndpointFaults.update does (errorRate, operations, slowReplies, lowerQuota…). */
  faults: {
    update(settings: Record<string, unknown>): Promise<AwsFaultsState>;
    state(): Promise<AwsFaultsState>;
    /** No faults; every lowered quota restored. */
    reset(): Promise<AwsFaultsState>;
  };
}

export interface ChaosRigOptions extends Pick<HerdlessOptions, 'schedulers' | 'schedulerArgs' | 'workers' | 'kubeconfigFor'> {
  /** Redis as production runs it: standalone (default), sentinel… */
  redis?: RedisTopologyKind;
  /** GetSecretValue per second: the endpoint's quota (burst the same) and Herdless's budget. */
  budgetRps: number;
  /** Flags for scheduler and workers both. */
  extraArgs?: string[];
  /** Flags for the workers only. */
  workerArgs?: string[];
  /** `never` (default: one sync, one call) or `always` (BatchGetSecretValue / GetParameters). */
  batching?: 'never' | 'always';
  /**
   * `own-process` (default): `herdless aws-endpoint` in a process of its own, so a stall of the
   * test's event loop (listing thousands of objects, a garbage collection under load) cannot
   * move its records from one second into the next and blur the budget's evidence; secrets and
   * faults through `rig.endpoint`. `in-process`: the endpoint runs in the test's process, for
   * what only its object offers (`env.aws`: denied reads, parameters).
   */
  endpoint?: 'in-process' | 'own-process';
}

export interface ChaosRig {
  /** Namespaces, stores, the processes and the in-process endpoint (`env.aws`). */
  readonly env: SecurityEnv;
  readonly redis: RedisTopology;
  /** The endpoint Herdless calls: its request log is the budget's evidence. */
  readonly endpoint: EndpointLog;
  readonly budgetRps: number;
  /** Adds `workers` workers with the rig's limits that reach Redis with `redisArgs` (through a partition relay, say). */
  addWorkers(workers: number, redisArgs: string[]): Promise<void>;
  /** Something the test started (a proxy, a relay, a connection): stopped in afterAll once Herdless's processes are, before Redis. */
  onStop(stop: () => unknown): void;
  /** Figures to print when the file ends, as `[<label>] figures [...]`. */
  report(figures: Record<string, unknown>): void;
}

/** Registers the rig's beforeAll and afterAll in the calling file; its fields are there from beforeAll on. */
export function useChaosRig(label: string, options: ChaosRigOptions): ChaosRig {
  let env: SecurityEnv | undefined;
  let redis: RedisTopology | undefined;
  let endpoint: EndpointLog | undefined;
  let awsEndpointUrl: string | undefined;
  const endpointProcesses: HerdlessProcess[] = [];
  const stops: Array<() => unknown> = [];
  const figures: Array<Record<string, unknown>> = [];
  const limits = {
    commonArgs: ['--budgets', `aws-sm=${options.budgetRps}`, ...(options.extraArgs ?? [])],
    workerArgs: ['--batching', options.batching ?? 'never', ...(options.workerArgs ?? [])],
  };
  // A runner that dies (a crash, a kill of vitest) leaves no Herdless process behind: the lab's
  // own servers have exit handlers, the processes started here get one too.
  const killLeftovers = () => {
    for (const p of [...(env?.processes ?? []), ...endpointProcesses]) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  };

  beforeAll(async () => {
    process.once('exit', killLeftovers);
    redis = await startRedisTopology(options.redis ?? 'standalone');
    env = await startSecurityEnv(label, { quotas: { GetSecretValue: { rps: options.budgetRps, burst: options.budgetRps } } });
    if (options.endpoint !== 'in-process') {
      const spawn = (name: string, args: string[]): ChildProcess => {
        const p = spawnHerdless(`${name}-${env?.run ?? label}`, args);
        endpointProcesses.push(p);
        return p.child;
      };
      const own = await startAwsEndpointProcess(spawn, `the output of process aws-endpoint-${env.run}`);
      await own.setQuota('GetSecretValue', options.budgetRps, options.budgetRps);
      awsEndpointUrl = own.url;
      endpoint = { putSecret: own.putSecret, requests: () => own.requests(0), faults: own.faults };
    } else {
      const aws = env.aws;
      endpoint = {
        putSecret: async (s) => void aws.putSecret(s),
        requests: async () => aws.requests(),
        faults: { update: async (u) => aws.faults.update(u), state: async () => aws.faults.state(), reset: async () => aws.faults.reset() },
      };
    }
    const { schedulers, schedulerArgs, workers = 2, kubeconfigFor } = options;
    await env.startHerdless({ schedulers, schedulerArgs, workers, kubeconfigFor, redisArgs: redis.flags, awsEndpointUrl, ...limits });
  });

  afterAll(async () => {
    console.log(`[${label}] figures ${JSON.stringify(figures)}`);
    // Each part is stopped whatever the others do; the first failure is thrown at the end.
    const failures: unknown[] = [];
    const attempt = async (stop: () => unknown) => {
      try {
        await stop();
      } catch (e) {
        failures.push(e);
      }
    };
    await attempt(() => env?.stop());
    for (const p of endpointProcesses) await attempt(() => p.stop());
    for (const stop of stops.reverse()) await attempt(stop);
    await attempt(() => redis?.stop());
    process.off('exit', killLeftovers);
    if (failures.length > 0) throw failures[0];
  });

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the chaos rig's ${what} is there only from its beforeAll on (did the set-up fail?)`);
    return value;
  };
  return {
    get env() {
      return started(env, 'environment');
    },
    get redis() {
      return started(redis, 'Redis');
    },
    get endpoint() {
      return started(endpoint, 'endpoint');
    },
    budgetRps: options.budgetRps,
    addWorkers: (n, redisArgs) => started(env, 'environment').startHerdless({ schedulers: 0, workers: n, redisArgs, awsEndpointUrl, ...limits }),
    onStop: (stop) => void stops.push(stop),
    report: (f) => void figures.push(f),
  };
}
