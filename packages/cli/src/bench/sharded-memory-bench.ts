// herdless bench sharded-memory: what each scheduler replica holds when planning is sharded.
// One fleet (created, then synced once as fleet-memory-bench.ts does, so every object carries
// what a sync leaves behind) is planned first by one `herdless scheduler --plan-shards S`, then,
// after the queue is emptied, by R of them. Each run waits until every shard is held and every
// ExternalSecret has its job on the queue, then reads each replica's peak resident set (VmHWM),
// its V8 heap in use (its /metrics) and its CPU seconds. The ratio per replica, R against one,
// is the figure issue 32 asks for (goal ≤ 0.5 at 3 replicas). No workers run: the schedulers'
// memory is measured, and nothing calls the store. The replicas' membership Leases are written
// before they start, so each one's first round sees them all and takes only its own shards (a
// replica that first took every shard and then handed some over would report that peak).
// After a run of several replicas, the holder of shard 0 is killed (SIGKILL) and the takeover is
// timed: until the survivors hold its shards (the Lease must expire first), and until their
// planners hold every ExternalSecret again (a standby holds none: the new holder lists its shard
// first; herdless_planner_planned_jobs summed over the survivors).
import type { ChildProcess } from 'node:child_process';
import { CoordinationV1Api, V1MicroTime, type KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { createStorm, freeLoopbackPorts, LAB_NAMESPACE, planStorm, prepareStore, SYSTEM_NAMESPACE, waitUntil } from '@herdless/lab';
import { memberLeaseName, MEMBER_LABEL, planShardLeaseName } from '@herdless/scheduler';
import { startContenderWorld, type ContenderWorld } from '../lab/contender-world.js';
import { readProcessUsage } from '../lab/process-usage.js';
import { sumMetric } from '../lab/api-server-metrics.js';
import { plannedJobsOf } from '../lab/scenarios/sharded-shards.js';
import { heapUsedOf, mib, syncFleetOnce } from './fleet-memory-bench.js';

const LEASE_NAME = 'herdless-scheduler';
/** The store's budget the replicas plan with: the fleet fits its interval (1 h) at it; no worker calls the store. */
const BUDGET_RPS = 10;

export interface ShardedMemoryReplica {
  name: string;
  /** The plan shards it held when measured. */
  shards: number[];
  peakRssBytes: number;
  /** main thread's V8 heap in use (garbage not yet collected included). */
  heapUsedBytes?: number;
  cpuSeconds: number;
}

export interface ShardedMemoryTakeover {
  victim: string;
  /** The shards it held, which moved. */
  shards: number[];
  /** Seconds from the SIGKILL until the survivors held every shard (the Lease's duration, 15 s, first). */
  heldSeconds: number;
  /** Seconds from the SIGKILL until the survivors' planners held every ExternalSecret. */
  plannedSeconds: number;
}

export interface ShardedMemoryRun {
  replicas: number;
  /** Seconds from the replicas' start until every shard was held and every ExternalSecret queued. */
  plannedSeconds: number;
  processes: ShardedMemoryReplica[];
  /** Runs of several replicas: one replica killed after the measurement. */
  takeover?: ShardedMemoryTakeover;
}

export interface ShardedMemoryBench {
  count: number;
  planShards: number;
  runs: ShardedMemoryRun[];
  /** Each replica of the last run against the single replica: peak RSS and heap in use, as ratios. */
  ratios: Array<{ name: string; shards: number[]; peakRss: number; heapUsed?: number; cpu: number }>;
}

export interface ShardedMemoryOptions {
  count: number;
  planShards: number;
  /** Replica counts, one run each, in order (the first is the reference: 1). */
  replicas: number[];
  seed: number;
  timeoutMs: number;
  logLevel: string;
}

export async function runShardedMemoryBench(opts: ShardedMemoryOptions, say: (line: string) => void): Promise<ShardedMemoryBench> {
  const world = await startContenderWorld({ redis: true, say });
  try {
    const kc = world.controlPlane.kubeConfig();
    const plan = planStorm(opts.count, opts.count, opts.seed);
    await prepareStore(kc, world.aws, plan, 1);
    say(`sharded-memory: creating ${opts.count} ExternalSecrets in namespace ${LAB_NAMESPACE}`);
    await createStorm(kc, plan, '1h');
    say(`sharded-memory: every target Secret written and status marked synced in ${await syncFleetOnce(kc, plan)} s`);
    const runs: ShardedMemoryRun[] = [];
    for (const replicas of opts.replicas) runs.push(await measureRun(world, kc, opts, replicas, say));
    const base = runs[0]?.processes[0];
    const last = runs.at(-1);
    const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? Math.round((a / b) * 100) / 100 : undefined);
    const ratios =
      base && last && runs.length > 1
        ? last.processes.map((p) => {
            const heapUsed = ratio(p.heapUsedBytes, base.heapUsedBytes);
            return { name: p.name, shards: p.shards, peakRss: ratio(p.peakRssBytes, base.peakRssBytes) ?? 0, ...(heapUsed === undefined ? {} : { heapUsed }), cpu: ratio(p.cpuSeconds, base.cpuSeconds) ?? 0 };
          })
        : [];
    return { count: opts.count, planShards: opts.planShards, runs, ratios };
  } finally {
    await world.stop();
  }
}

/** `replicas` schedulers on an empty queue until every ExternalSecret is planned; each one's figures. */
async function measureRun(world: ContenderWorld, kc: KubeConfig, opts: ShardedMemoryOptions, replicas: number, say: (line: string) => void): Promise<ShardedMemoryRun> {
  const redisUrl = world.redis?.url;
  if (!redisUrl) throw new Error('sharded-memory needs the lab Redis');
  // Each run plans from an empty queue, as the first did (nothing to adopt).
  const redis = new Redis(redisUrl);
  await redis.flushall();
  redis.disconnect();
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const identities = Array.from({ length: replicas }, (_, i) => `sharded-memory-${replicas}-${i + 1}`);
  if (replicas > 1) await registerMembers(coordination, identities);
  const ports = await freeLoopbackPorts(replicas);
  say(`sharded-memory: ${replicas} scheduler(s) with --plan-shards ${opts.planShards}`);
  const started = Date.now();
  const children = identities.map((identity, i) =>
    world.spawnHerdless(identity, [
      'scheduler',
      '--kubeconfig', world.controlPlane.kubeconfigPath,
      '--redis-url', redisUrl,
      '--log-level', opts.logLevel,
      '--namespace', SYSTEM_NAMESPACE,
      '--lease-name', LEASE_NAME,
      '--identity', identity,
      '--budgets', `aws-sm=${BUDGET_RPS}`,
      '--aws-endpoint', world.aws.url,
      '--plan-shards', String(opts.planShards),
      '--metrics-port', String(ports[i]),
    ]),
  );
  try {
    const holders = async (): Promise<string[]> =>
      Promise.all(
        Array.from({ length: opts.planShards }, async (_, s) => {
          const lease = await coordination.readNamespacedLease({ name: planShardLeaseName(LEASE_NAME, s), namespace: SYSTEM_NAMESPACE }).catch(() => undefined);
          return lease?.spec?.holderIdentity ?? '';
        }),
      );
    let lastSeen = '';
    const held = await waitUntil(
      async () => {
        const now = await holders();
        const text = await fetch(`http://127.0.0.1:${ports[0]}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text()).catch(() => '');
        const queued = sumMetric(text, 'herdless_queue_jobs');
        lastSeen = `shard holders ${JSON.stringify(now)}, ${queued} jobs queued`;
        return now.every((h) => identities.includes(h)) && new Set(now).size === Math.min(replicas, opts.planShards) && queued >= opts.count ? now : undefined;
      },
      { what: `${replicas} replica(s) to hold every shard and plan ${opts.count} ExternalSecrets`, timeoutMs: opts.timeoutMs, intervalMs: 1_000, lastSeen: () => lastSeen },
    );
    const plannedSeconds = Math.round((Date.now() - started) / 100) / 10;
    const processes = await Promise.all(
      children.map(async (child, i) => {
        const usage = child.pid === undefined ? undefined : readProcessUsage(child.pid);
        const heapUsedBytes = await heapUsedOf(ports[i] as number);
        const name = identities[i] as string;
        return {
          name,
          shards: held.flatMap((h, s) => (h === name ? [s] : [])),
          peakRssBytes: usage?.peakRssBytes ?? 0,
          ...(heapUsedBytes === undefined ? {} : { heapUsedBytes }),
          cpuSeconds: usage?.cpuSeconds ?? 0,
        };
      }),
    );
    const takeover = replicas > 1 ? await timeTakeover(world, children, identities, ports, held, opts, holders, say) : undefined;
    return { replicas, plannedSeconds, processes, ...(takeover ? { takeover } : {}) };
  } finally {
    // SIGTERM: each releases its shard Leases and deletes its membership, so the next run starts clean.
    await Promise.all(children.map((c) => world.stopChild(c)));
  }
}

/** SIGKILL the holder of shard 0; seconds until the survivors hold its shards and have planned them. */
async function timeTakeover(
  world: ContenderWorld,
  children: ChildProcess[],
  identities: string[],
  ports: number[],
  held: string[],
  opts: ShardedMemoryOptions,
  holders: () => Promise<string[]>,
  say: (line: string) => void,
): Promise<ShardedMemoryTakeover> {
  const victim = held[0] as string;
  const v = identities.indexOf(victim);
  const shards = held.flatMap((h, s) => (h === victim ? [s] : []));
  const survivors = identities.flatMap((name, i) => (i === v ? [] : [{ name, port: ports[i] as number }]));
  const plannedJobs = () => plannedJobsOf(survivors.map((s) => s.port));
  say(`sharded-memory: SIGKILL ${victim} (shards [${shards.join(',')}]); timing the takeover`);
  const killed = Date.now();
  await world.stopChild(children[v] as ChildProcess, true);
  let heldSeconds: number | undefined;
  let lastSeen = '';
  await waitUntil(
    async () => {
      const now = await holders();
      if (heldSeconds === undefined && now.every((h) => h !== '' && h !== victim && identities.includes(h))) heldSeconds = (Date.now() - killed) / 1000;
      const planned = await plannedJobs();
      lastSeen = `shard holders ${JSON.stringify(now)}, survivors' planned jobs ${planned}`;
      return heldSeconds !== undefined && planned >= opts.count ? true : undefined;
    },
    { what: `the survivors to take over and plan ${opts.count} ExternalSecrets`, timeoutMs: opts.timeoutMs, intervalMs: 250, lastSeen: () => lastSeen },
  );
  const round = (x: number) => Math.round(x * 10) / 10;
  return { victim, shards, heldSeconds: round(heldSeconds ?? 0), plannedSeconds: round((Date.now() - killed) / 1000) };
}

/** Membership Leases for every replica, as their own first renewal would write them (shard-campaign.ts). */
async function registerMembers(coordination: CoordinationV1Api, identities: string[]): Promise<void> {
  const now = new V1MicroTime(Date.now());
  for (const identity of identities) {
    await coordination.createNamespacedLease({
      namespace: SYSTEM_NAMESPACE,
      body: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: memberLeaseName(LEASE_NAME, identity), namespace: SYSTEM_NAMESPACE, labels: { [MEMBER_LABEL]: LEASE_NAME } },
        spec: { holderIdentity: identity, leaseDurationSeconds: 15, acquireTime: now, renewTime: now },
      },
    });
  }
}

export function formatShardedMemoryBench(bench: ShardedMemoryBench): string {
  const lines = [`sharded memory (${bench.count.toLocaleString('en-US')} ExternalSecrets, --plan-shards ${bench.planShards}; each replica once every shard is held and every ExternalSecret queued):`];
  for (const run of bench.runs) {
    lines.push(
      `  ${run.replicas} replica(s) (planned after ${run.plannedSeconds} s): ${run.processes
        .map((p) => `${p.name} shards [${p.shards.join(',')}] peak RSS ${mib(p.peakRssBytes)}${p.heapUsedBytes === undefined ? '' : `, heap ${mib(p.heapUsedBytes)}`}, CPU ${p.cpuSeconds.toFixed(1)} s`)
        .join('; ')}`,
    );
    const t = run.takeover;
    if (t) lines.push(`  takeover after SIGKILL of ${t.victim} (shards [${t.shards.join(',')}], lease 15 s): held by the survivors after ${t.heldSeconds} s, every ExternalSecret planned again after ${t.plannedSeconds} s`);
  }
  for (const r of bench.ratios) {
    lines.push(`  ${r.name} (shards [${r.shards.join(',')}]) against the single replica: peak RSS ${r.peakRss}x${r.heapUsed === undefined ? '' : `, heap ${r.heapUsed}x`}, CPU ${r.cpu}x`);
  }
  return lines.join('\n');
}
