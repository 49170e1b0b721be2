// The controllers a lab run compares, behind one small interface: Herdless's scheduler and
// workers with one of its planner policies (herdless, or the eso / eso-jitter models of the
// reference controller), or the real ESO binary. A scenario starts, stops and fails them over
// without knowing which one it drives.
import type { ChildProcess } from 'node:child_process';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { syncQueueName } from '@herdless/core';
import { freeLoopbackPorts, LAB_NAMESPACE, scrapeLoopbackMetrics, startEso, ESO_VERSION, SYSTEM_NAMESPACE, WORKER_PROCESS_PREFIX, type EsoProcess } from '@herdless/lab';
import { sumMetric } from './api-server-metrics.js';
import { tracingFlags, type ContenderRun, type LabSettings } from './lab-config.js';
import type { ContenderWorld } from './contender-world.js';
import { SHARDED_PLAN_SHARDS, SHARDED_REPLICAS } from './scenarios/sharded-shards.js';
import { planShardLeaseName } from '@herdless/scheduler';

export const LEASE_NAME = 'herdless-scheduler';

export interface Controller {
  label: string;
  description: string;
  /** The flags of every process, as started (the first start). */
  flags: string[];
  start(): Promise<void>;
  /** Stops every process of the controller (graceful). */
  stop(): Promise<void>;
  /** Kills the active instance (the Lease holder; for ESO its one process) and says which. */
  killActive(): Promise<string>;
  /** Items ready to run but not yet running; null when not observable. */
  queueDepth(): Promise<number | null>;
  redisPeakMemoryBytes(): Promise<number | null>;
  /** The lab Redis's counters so far (INFO stats): commands (Lua scripts' own included) and read events (round trips); null without Redis. */
  redisCounters(): Promise<{ commands: number; roundTrips: number } | null>;
  /** The /metrics text of each worker process running now (Herdless's; none for ESO). */
  workerMetrics(): Promise<string[]>;
  /** For the per-second pause probe: each running process's /metrics (by port, so counters can be
   *  differenced), and one Redis PING's round trip (null without Redis). */
  probeTargets(): { workerPorts: readonly number[]; schedulerPorts: readonly number[]; pingRedis?: () => Promise<unknown> };
  close(): Promise<void>;
}

export function createController(run: ContenderRun, settings: LabSettings, env: ContenderWorld): Controller {
  return run.kind === 'eso-real' ? new RealEso(run, settings, env) : new HerdlessController(run, settings, env);
}

class HerdlessController implements Controller {
  readonly label: string;
  readonly description: string;
  readonly flags: string[] = [];
  private schedulers: Array<{ identity: string; metricsPort: number; child: ChildProcess }> = [];
  private workers: ChildProcess[] = [];
  private workerMetricsPorts: number[] = [];
  private starts = 0;
  private redis?: Redis;
  private queue?: Queue;

  constructor(
    private readonly run: ContenderRun,
    private readonly settings: LabSettings,
    private readonly env: ContenderWorld,
  ) {
    this.label = run.label;
    this.description =
      run.kind === 'herdless'
        ? 'Herdless: capacity-aware planner (policy herdless)'
        : `Herdless's model of the reference controller (policy ${run.kind}) on Herdless workers`;
  }

  private common(): string[] {
    const redis = this.env.redis;
    if (!redis) throw new Error('the Herdless contenders need the lab Redis');
    return ['--kubeconfig', this.env.controlPlane.kubeconfigPath, '--redis-url', redis.url, '--log-level', this.settings.logLevel, ...tracingFlags(this.settings.tracing)];
  }

  async start(): Promise<void> {
    this.starts++;
    // Failover runs two replicas so that one takes over; the others need only one.
    const replicas = this.settings.scenario === 'failover' ? 2 : this.settings.scenario === 'sharded' ? SHARDED_REPLICAS : 1;
    const schedulerPorts = await freeLoopbackPorts(replicas);
    for (let r = 1; r <= replicas; r++) {
      const identity = `scheduler-${this.starts}-${r}`;
      const args = [
        'scheduler',
        ...this.common(),
        '--namespace', SYSTEM_NAMESPACE,
        '--identity', identity,
        '--policy', this.run.kind,
        '--seed', String(this.settings.seed),
        '--budgets', `aws-sm=${this.settings.budgetRps}`,
        '--aws-endpoint', this.env.aws.url,
        ...(this.settings.scenario === 'sharded' ? ['--plan-shards', String(SHARDED_PLAN_SHARDS)] : []),
      ];
      if (this.flags.length === 0 || r === 1) this.recordFlags(`herdless ${args.join(' ')}`);
      const metricsPort = schedulerPorts[r - 1] as number;
      this.schedulers.push({ identity, metricsPort, child: this.env.spawnHerdless(identity, [...args, '--metrics-port', String(metricsPort)]) });
    }
    // Each worker serves /metrics on loopback, for the figures the lab reads back at the end.
    const metricsPorts = await freeLoopbackPorts(this.settings.workers);
    for (let w = 1; w <= this.settings.workers; w++) {
      const args = ['worker', ...this.common(), '--aws-endpoint', this.env.aws.url, '--concurrency', String(this.settings.concurrency)];
      const metricsPort = metricsPorts[w - 1] as number;
      // The workers' limiter enforces the budget the planner plans with.
      // The ESO models call the store as ESO does: one GetSecretValue per sync, no batching, no
      // coalescing, and no limiter below the call path's default budget.
      if (this.run.kind === 'herdless') args.push('--budgets', `aws-sm=${this.settings.budgetRps}`);
      else args.push('--batching', 'never', '--coalesce-window-ms', '0');
      if (w === 1) this.recordFlags(`herdless ${args.join(' ')}  (× ${this.settings.workers})`);
      this.workers.push(this.env.spawnHerdless(`${WORKER_PROCESS_PREFIX}${this.starts}-${w}`, [...args, '--metrics-port', String(metricsPort)]));
      this.workerMetricsPorts.push(metricsPort);
    }
  }

  private recordFlags(line: string): void {
    const redacted = line.replace(/--kubeconfig \S+/, '--kubeconfig <lab>').replace(/--otel-endpoint \S+/, '--otel-endpoint <jaeger>').replace(/redis:\/\/[^ ]+/, 'redis://<lab>').replace(/http:\/\/127\.0\.0\.1:\d+/, 'http://<aws-endpoint>');
    if (!this.flags.includes(redacted)) this.flags.push(redacted);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.schedulers.map((s) => this.env.stopChild(s.child)), ...this.workers.map((w) => this.env.stopChild(w))]);
    this.schedulers = [];
    this.workers = [];
    this.workerMetricsPorts = [];
  }

  async workerMetrics(): Promise<string[]> {
    return scrapeLoopbackMetrics(this.workerMetricsPorts);
  }

  probeTargets(): ReturnType<Controller['probeTargets']> {
    const c = this.connect();
    return {
      workerPorts: this.workerMetricsPorts,
      schedulerPorts: this.schedulers.map((s) => s.metricsPort),
      ...(c ? { pingRedis: () => c.redis.ping() } : {}),
    };
  }

  async killActive(): Promise<string> {
    const coordination = this.env.controlPlane.kubeConfig().makeApiClient(CoordinationV1Api);
    // The Lease names the leader; wait a little for one (a replica may be between terms).
    let holder: string | undefined;
    let problem = '';
    for (let attempt = 0; attempt < 40; attempt++) {
      try {
        // Sharded: the holder of plan shard 0.
        const lease = await coordination.readNamespacedLease({ name: this.settings.scenario === 'sharded' ? planShardLeaseName(LEASE_NAME, 0) : LEASE_NAME, namespace: SYSTEM_NAMESPACE });
        holder = lease.spec?.holderIdentity ?? undefined;
        if (this.schedulers.some((s) => s.identity === holder)) break;
      } catch (error) {
        problem = `; reading Lease ${SYSTEM_NAMESPACE}/${LEASE_NAME} failed: ${(error as Error).message.split('\n')[0]}`;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const leader = this.schedulers.find((s) => s.identity === holder);
    if (!leader) return `no scheduler of ours holds the Lease (holder ${holder ?? 'none'}${problem}); nothing killed`;
    await this.env.stopChild(leader.child, true);
    this.schedulers = this.schedulers.filter((s) => s !== leader);
    return `killed the leader ${leader.identity} (SIGKILL)`;
  }

  private connect(): { redis: Redis; queue: Queue } | undefined {
    if (!this.env.redis) return undefined;
    this.redis ??= new Redis(this.env.redis.url, { maxRetriesPerRequest: 1, lazyConnect: false });
    this.queue ??= new Queue(syncQueueName(), { connection: this.redis, prefix: 'herdless' });
    return { redis: this.redis, queue: this.queue };
  }

  async queueDepth(): Promise<number | null> {
    const c = this.connect();
    if (!c) return null;
    const counts = await c.queue.getJobCounts('wait', 'prioritized', 'paused');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async redisPeakMemoryBytes(): Promise<number | null> {
    const c = this.connect();
    if (!c) return null;
    const info = await c.redis.info('memory');
    const peak = /used_memory_peak:(\d+)/.exec(info);
    return peak ? Number(peak[1]) : null;
  }

  async redisCounters(): Promise<{ commands: number; roundTrips: number } | null> {
    const c = this.connect();
    if (!c) return null;
    const info = await c.redis.info('stats');
    const commands = /total_commands_processed:(\d+)/.exec(info);
    const reads = /total_reads_processed:(\d+)/.exec(info);
    return commands && reads ? { commands: Number(commands[1]), roundTrips: Number(reads[1]) } : null;
  }

  async close(): Promise<void> {
    await this.stop();
    await this.queue?.close().catch(() => undefined);
    this.redis?.disconnect();
  }
}

class RealEso implements Controller {
  readonly label: string;
  readonly description: string;
  flags: string[] = [];
  private eso?: EsoProcess;
  private starts = 0;

  constructor(
    private readonly run: ContenderRun,
    private readonly settings: LabSettings,
    private readonly env: ContenderWorld,
  ) {
    this.label = run.label;
    this.description = `External Secrets Operator ${ESO_VERSION} (the real binary, built from its Go module), AWS_SECRETSMANAGER_ENDPOINT=our endpoint`;
  }

  async start(): Promise<void> {
    this.starts++;
    this.eso = await startEso({
      kubeconfigPath: this.env.controlPlane.kubeconfigPath,
      awsEndpointUrl: this.env.aws.url,
      // noisy-neighbour: the other tenants' namespaces too, as a cluster-wide install serves them.
      ...(this.settings.scenario === 'noisy-neighbour' ? {} : { namespace: LAB_NAMESPACE }),
      ...(this.run.esoConcurrent !== undefined && this.run.esoConcurrent !== 1 ? { concurrent: this.run.esoConcurrent } : {}),
      ...(this.settings.esoClientQps !== undefined ? { clientQps: this.settings.esoClientQps } : {}),
      ...(this.settings.esoClientBurst !== undefined ? { clientBurst: this.settings.esoClientBurst } : {}),
    });
    this.env.usage.track(`external-secrets-${this.starts}`, this.eso.pid);
    if (this.flags.length === 0) {
      this.flags = [`external-secrets ${this.eso.flags.map((f) => f.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:<port>')).join(' ')}`];
    }
  }

  async stop(): Promise<void> {
    await this.eso?.stop();
    this.eso = undefined;
  }

  async killActive(): Promise<string> {
    if (!this.eso) return 'ESO was not running';
    await this.eso.process.stop(0);
    this.eso = undefined;
    return 'killed ESO (SIGKILL); a Deployment would start a new pod';
  }

  async queueDepth(): Promise<number | null> {
    if (!this.eso) return null;
    try {
      const res = await fetch(this.eso.metricsUrl, { signal: AbortSignal.timeout(900) });
      return sumMetric(await res.text(), 'workqueue_depth', 'name="externalsecret"');
    } catch {
      return null;
    }
  }

  async redisPeakMemoryBytes(): Promise<number | null> {
    return null;
  }

  async redisCounters(): Promise<{ commands: number; roundTrips: number } | null> {
    return null;
  }

  async workerMetrics(): Promise<string[]> {
    return [];
  }

  probeTargets(): ReturnType<Controller['probeTargets']> {
    return { workerPorts: [], schedulerPorts: [] };
  }

  async close(): Promise<void> {
    await this.stop();
  }
}
