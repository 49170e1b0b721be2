// The lab: for each contender, a fresh world (control plane, AWS endpoint, Redis), the same
// seeded storm, the scenario's disruptions, and figures computed from what was observed — our
// AWS endpoint's replies and the ExternalSecrets' status on the API server. Everything started
// here is stopped in `finally`, whatever happened.
import { cpus, hostname, release, totalmem, type } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  ensureControlPlaneBinaries,
  ensureEsoBinary,
  computeResult,
  latenessNote,
  sampleValues,
  scrapeLoopbackMetrics,
  workerStartCpuOf,
  type ContenderResult,
  type ProviderReply,
  type RunObservation,
  type LabReport,
  type MachineInfo,
  type ScenarioRun,
} from '@herdless/lab';
import { countWrites, fetchApiServerMetrics, getApiServer } from './api-server-metrics.js';
import { startPauseProbe } from './pause-probe.js';
import { createController, LAB_NAMESPACE } from './contenders.js';
import { FleetObserver } from './fleet-observer.js';
import type { ContenderRun, LabSettings } from './lab-config.js';
import { startContenderWorld } from './contender-world.js';
import { SYNC_START_LATENESS, WORKER_START_CPU } from '@herdless/worker';
import type { LabProgress } from './lab-progress.js';
import { prepareNeighbours, startNeighbours, type Neighbours } from './noisy-neighbour.js';
import { createStorm, createTrickle, planStorm, prepareStore, type StormPlan } from './storm.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** New ExternalSecrets during a recovery: one every PROBE_EVERY_MS until the backlog is gone. */
const PROBE_EVERY_MS = 500;
const MAX_PROBES = 200;

/** The probes read the storm's remote secrets (already in the AWS endpoint) under new names. */
function probeItems(plan: StormPlan, count: number): Array<{ name: string; remoteKey: string }> {
  return plan.items.slice(0, Math.min(MAX_PROBES, count)).map((item, i) => ({ name: `new-${i}`, remoteKey: item.remoteKey }));
}

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    hostname: hostname(),
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cpus: cpu.length,
    memoryBytes: totalmem(),
    os: `${type()} ${release()}`,
    node: process.version,
  };
}

export function scenarioSettingsOf(s: LabSettings): ScenarioRun['settings'] {
  return {
    scenario: s.scenario,
    count: s.count,
    refreshIntervalSeconds: s.refreshIntervalMs / 1000,
    quotaRps: s.quotaRps,
    budgetRps: s.budgetRps,
    workers: s.workers,
    concurrency: s.concurrency,
    seed: s.seed,
    remoteSecrets: s.remoteSecrets,
    timeCompressed: s.timeCompressed,
    downSeconds: s.downMs / 1000,
    outageSeconds: s.outageMs / 1000,
    observeSeconds: s.observeMs / 1000,
    // The real ESO's client limits, when raised (its defaults otherwise: client QPS 50, burst 100).
    ...(s.esoClientQps !== undefined ? { esoClientQps: s.esoClientQps } : {}),
    ...(s.esoClientBurst !== undefined ? { esoClientBurst: s.esoClientBurst } : {}),
  };
}

/** Builds what the settings need before any timing starts (cold builds take minutes). */
export async function ensureToolchains(settings: LabSettings, say: (line: string) => void): Promise<void> {
  await ensureControlPlaneBinaries({ log: say });
  if (settings.contenders.some((c) => c.kind === 'eso-real')) await ensureEsoBinary({ log: say });
}

export async function runScenario(settings: LabSettings, progress: LabProgress): Promise<ScenarioRun> {
  const contenders: ContenderResult[] = [];
  for (const run of settings.contenders) contenders.push(await runContender(settings, run, progress));
  return { settings: scenarioSettingsOf(settings), contenders };
}

export async function runContender(settings: LabSettings, run: ContenderRun, progress: LabProgress): Promise<ContenderResult> {
  const say = progress.say;
  say(`${run.label}: ${settings.scenario}, ${settings.count} ExternalSecrets, quota ${settings.quotaRps}/s, refresh ${settings.refreshInterval}, seed ${settings.seed}`);
  const env = await startContenderWorld({ esoCrds: run.kind === 'eso-real', redis: run.kind !== 'eso-real', say });
  const controller = createController(run, settings, env);
  const observer = new FleetObserver(env.controlPlane.kubeConfig(), LAB_NAMESPACE);
  let ticker: NodeJS.Timeout | undefined;
  let pauseProbe: ReturnType<typeof startPauseProbe> | undefined;
  let neighbours: Neighbours | undefined;
  try {
    const kc = env.controlPlane.kubeConfig();
    for (const op of ['GetSecretValue', 'BatchGetSecretValue'] as const) await env.aws.setQuota(op, settings.quotaRps, settings.quotaRps);
    const plan = planStorm(settings.count, settings.remoteSecrets, settings.seed);
    // The ESO models and the real ESO have no budget: the annotation would put them behind
    // the workers' limiter, which the reference controller does not have.
    await prepareStore(kc, env.aws, plan, run.kind === 'herdless' ? settings.budgetRps : undefined);
    if (settings.scenario === 'noisy-neighbour') await prepareNeighbours(kc, env.aws.region, run.kind === 'herdless' ? settings.budgetRps : undefined);
    if (!settings.startAfterCreate) await controller.start();
    await observer.start();
    const access = { server: env.controlPlane.server, caPem: env.controlPlane.caPem, adminToken: env.controlPlane.adminToken };
    const writesBefore = countWrites(await fetchApiServerMetrics(access));
    await env.aws.resetRequests();
    const redisBefore = await controller.redisCounters().catch(() => null);

    // This process's event loop (it creates the fleet and parses every status update): its
    // worst delay goes into the notes, and per second into the series (the AWS endpoint, which
    // timestamps the calls, runs in a process of its own).
    const loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
    // And per second, into the series, to read a one-second bump against.
    const secondLoopDelay = monitorEventLoopDelay({ resolution: 20 });
    secondLoopDelay.enable();
    const t0 = Date.now();
    // Who paused when the calls dip: the workers, the scheduler, Redis or the API server.
    pauseProbe = startPauseProbe(t0, () => {
      const tg = controller.probeTargets();
      return {
        ...tg,
        // A quorum read (no resourceVersion): through the API server to etcd.
        readApi: () => getApiServer(access, `/api/v1/namespaces/${LAB_NAMESPACE}`, 5_000),
        scrape: async (port) => (await scrapeLoopbackMetrics([port], 5_000))[0] as string,
      };
    });
    const events: RunObservation['events'] = [];
    const mark = (what: string) => {
      events.push({ t: Math.round((Date.now() - t0) / 100) / 10, what });
      say(`${run.label}: ${what}`);
    };
    const samples = new Map<number, { ready: number; queueDepth: number | null; loopMaxMs?: number }>();
    let phase = 'storm';
    progress.begin(run.label, settings.count);
    let sampling = false;
    ticker = setInterval(() => {
      if (sampling) return;
      sampling = true;
      void (async () => {
        const now = Date.now();
        const t = Math.floor((now - t0) / 1000);
        const loopMaxMs = Math.round(secondLoopDelay.max / 1e6);
        secondLoopDelay.reset();
        const queueDepth = await controller.queueDepth().catch(() => null);
        samples.set(t, { ready: observer.readyCount, queueDepth, loopMaxMs });
        env.usage.sample();
        const [recent, throttled] = await Promise.all([
          env.aws.callsPerSecond(now - 2000).catch(() => []),
          env.aws.throttledSince(t0).catch(() => 0),
        ]);
        const last = recent.at(-2);
        progress.tick({
          t,
          phase,
          ready: observer.readyCount,
          total: settings.count,
          syncs: observer.syncCount(),
          pending: settings.count - observer.readyCount,
          throttled,
          rateRps: last ? last.calls : 0,
          quotaRps: settings.quotaRps,
          queueDepth,
        });
      })().finally(() => (sampling = false));
    }, 1000);

    // The other tenants start creating with the storm, and go on until it is over.
    if (settings.scenario === 'noisy-neighbour') neighbours = await startNeighbours(kc, plan, settings.refreshInterval);
    const createdAt = await createStorm(kc, plan, settings.refreshInterval);
    mark(`created ${settings.count} ExternalSecrets in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const names = [...createdAt.keys()];
    let converge: RunObservation['converge'] = { fromMs: t0, kind: 'ready' };
    if (settings.startAfterCreate) {
      const start = Date.now();
      await controller.start();
      mark('controller started');
      converge = { fromMs: start, kind: 'ready' };
    }
    const notes: string[] = [];
    let complete = true;
    const waitFor = async (what: string, ok: () => boolean): Promise<boolean> => {
      const deadline = Date.now() + settings.timeoutMs;
      while (!ok()) {
        if (Date.now() > deadline) {
          notes.push(`timed out after ${settings.timeoutMs / 1000} s waiting for ${what}`);
          mark(`timed out waiting for ${what}`);
          complete = false;
          return false;
        }
        await sleep(250);
      }
      return true;
    };
    const allReady = () => observer.readyCount >= settings.count;

    let probesCreatedAt: Map<string, number> | undefined;
    let window: RunObservation['window'];
    switch (settings.scenario) {
      case 'burst':
        await waitFor('every ExternalSecret to be Ready', allReady);
        break;
      case 'noisy-neighbour': {
        const others = neighbours as Neighbours;
        await waitFor("every one of tenant A's ExternalSecrets to be Ready", allReady);
        others.stop();
        probesCreatedAt = await others.created;
        mark(`${probesCreatedAt.size} ExternalSecrets created by tenants B–E during tenant A's storm`);
        await waitFor("the other tenants' ExternalSecrets to be Ready", () => [...(probesCreatedAt?.keys() ?? [])].every((k) => others.isReady(k)));
        break;
      }
      case 'failover': {
        const killAt = t0 + Math.max(10_000, (settings.count / settings.quotaRps) * 300);
        while (Date.now() < killAt && !allReady()) await sleep(250);
        phase = 'failover';
        mark(await controller.killActive());
        if (run.kind === 'eso-real') {
          // No second ESO replica outside a cluster (its leader election needs an in-cluster
          // namespace): a new process after the Lease would have expired, as a Deployment does.
          await sleep(15_000);
          await controller.start();
          mark('started a new ESO process');
        }
        phase = 'storm';
        await waitFor('every ExternalSecret to be Ready', allReady);
        break;
      }
      case 'steady': {
        await waitFor('every ExternalSecret to be Ready', allReady);
        phase = 'steady';
        const start = Date.now();
        mark('all Ready; observing the steady state');
        await sleep(settings.observeMs);
        window = { startMs: start, endMs: Date.now() };
        break;
      }
      case 'recovery': {
        await waitFor('every ExternalSecret to be Ready', allReady);
        phase = 'down';
        await controller.stop();
        mark(`controller stopped for ${settings.downMs / 1000} s`);
        await sleep(settings.downMs);
        phase = 'recovery';
        const restart = Date.now();
        await controller.start();
        mark('controller started again');
        converge = { fromMs: restart, kind: 'synced' };
        // Someone creates new ExternalSecrets during the catch-up: how long do they wait? They
        // start with the storm (the first sync after the restart), not with the processes, so
        // the figure is the wait behind the backlog, not the controller's start-up.
        const syncsAtRestart = observer.syncCount();
        await waitFor('the first sync after the restart', () => observer.syncCount() > syncsAtRestart);
        let caughtUp = false;
        const trickle = createTrickle(kc, probeItems(plan, settings.count), settings.refreshInterval, PROBE_EVERY_MS, () => caughtUp);
        await waitFor('every overdue ExternalSecret to be refreshed', () => observer.allSyncedSince(names, restart));
        caughtUp = true;
        probesCreatedAt = await trickle;
        mark(`${probesCreatedAt.size} new ExternalSecrets created during the catch-up`);
        await waitFor('the new ExternalSecrets to be Ready', () => [...(probesCreatedAt?.keys() ?? [])].every((n) => observer.records.get(n)?.readyAt !== undefined));
        phase = 'steady';
        mark('caught up; observing the interval that follows');
        const start = Date.now();
        await sleep(settings.observeMs);
        window = { startMs: start, endMs: Date.now() };
        break;
      }
      case 'outage': {
        await waitFor('every ExternalSecret to be Ready', allReady);
        await sleep(settings.refreshIntervalMs / 2);
        phase = 'outage';
        await env.aws.setOutage(true);
        mark(`AWS endpoint down (500 InternalServiceError) for ${settings.outageMs / 1000} s`);
        await sleep(settings.outageMs);
        await env.aws.setOutage(false);
        const back = Date.now();
        phase = 'recovery';
        mark('AWS endpoint back');
        converge = { fromMs: back, kind: 'synced' };
        await waitFor('every ExternalSecret to be refreshed after the outage', () => observer.allSyncedSince(names, back));
        phase = 'steady';
        const start = Date.now();
        await sleep(settings.observeMs);
        window = { startMs: start, endMs: Date.now() };
        break;
      }
    }
    const endMs = Date.now();
    loopDelay.disable();
    secondLoopDelay.disable();
    notes.push(`lab process event-loop delay (the AWS endpoint has its own process): p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`);
    // Whether the workers ran jobs when planned, and what their start cost: read from their own
    // metrics before they stop.
    let workerStartCpus: number[] = [];
    try {
      const texts = await controller.workerMetrics();
      const lateness = latenessNote(texts, SYNC_START_LATENESS);
      if (lateness) notes.push(lateness);
      workerStartCpus = sampleValues(texts, WORKER_START_CPU);
    } catch (error) {
      notes.push(`workers' metrics not read: ${(error as Error).message}`);
    }
    clearInterval(ticker);
    ticker = undefined;
    pauseProbe.stop();
    env.usage.sample();
    const writesAfter = countWrites(await fetchApiServerMetrics(access));
    const redisPeak = await controller.redisPeakMemoryBytes().catch(() => null);
    const redisAfter = await controller.redisCounters().catch(() => null);
    const replies: ProviderReply[] = (await env.aws.requests(t0)).map((r) => ({ atMs: r.atMs, outcome: r.outcome, operation: r.operation }));
    progress.end();
    const processes = env.usage.usage();
    const result = computeResult({
      label: run.label,
      description: controller.description,
      flags: controller.flags,
      notes,
      complete,
      count: settings.count,
      quotaRps: settings.quotaRps,
      refreshIntervalMs: settings.refreshIntervalMs,
      t0,
      endMs,
      createdAt,
      ...(probesCreatedAt ? { probesCreatedAt } : {}),
      records: neighbours ? neighbours.records(observer.records) : observer.records,
      replies,
      samples,
      probes: pauseProbe.samples,
      converge,
      ...(window ? { window } : {}),
      // The new ExternalSecrets created during a recovery's catch-up need their calls within it too.
      callsNeeded: settings.count + (probesCreatedAt?.size ?? 0),
      // The storm's own creates are the lab's writes, not the controller's.
      apiWrites: Math.max(0, writesAfter - writesBefore - settings.count),
      redisPeakMemoryBytes: redisPeak,
      // The lab's own probes (queue depth, INFO) are a few commands a second; they are counted too.
      redisCommands: redisBefore && redisAfter ? redisAfter.commands - redisBefore.commands : null,
      redisRoundTrips: redisBefore && redisAfter ? redisAfter.roundTrips - redisBefore.roundTrips : null,
      processes,
      ...workerStartCpuOf(processes, workerStartCpus),
      events,
    });
    say(
      `${run.label}: done — peak ${result.figures.providerPeakPerOperationRps ?? result.figures.providerPeakRps} req/s per operation (quota ${settings.quotaRps} each), throttled ${result.figures.throttled}, ` +
        `converged ${result.figures.convergeSeconds ?? 'never'} s (${result.figures.convergeVsLimit ?? '–'}× the limit)`,
    );
    return result;
  } finally {
    if (ticker) clearInterval(ticker);
    pauseProbe?.stop();
    progress.end();
    observer.stop();
    neighbours?.close();
    await controller.close().catch(() => undefined);
    await env.stop();
  }
}

export function labReport(kind: LabReport['kind'], command: string, runs: ScenarioRun[], extra?: Record<string, unknown>): LabReport {
  return { kind, createdAt: new Date().toISOString(), machine: machineInfo(), command, runs, ...(extra ? { extra } : {}) };
}
