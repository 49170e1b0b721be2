// One contender's run of a scenario: a fresh world (control plane, AWS endpoint, Redis), the
// same seeded storm, the scenario's story (scenarios/), and the figures computed from what was
// observed — our AWS endpoint's replies and the ExternalSecrets' status on the API server.
// Everything started here is stopped in `finally`, whatever happened.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  computeResult,
  createStorm,
  LAB_NAMESPACE,
  latenessNote,
  planStorm,
  prepareStore,
  sampleValues,
  scrapeLoopbackMetrics,
  workerStartCpuOf,
  type ContenderResult,
  type ProviderReply,
  type RunObservation,
} from '@herdless/lab';
import { SYNC_START_LATENESS, WORKER_START_CPU } from '@herdless/worker';
import { countWrites, fetchApiServerMetrics, getApiServer } from './api-server-metrics.js';
import { startContenderWorld } from './contender-world.js';
import { createController } from './contenders.js';
import { FleetObserver } from './fleet-observer.js';
import type { ContenderRun, LabSettings } from './lab-config.js';
import type { LabProgress } from './lab-progress.js';
import { PROBED_METRICS, startPauseProbe } from './pause-probe.js';
import { SCENARIO_FACTORIES, type ScenarioContext } from './scenarios/index.js';
import { sleep } from './scenarios/scenario.js';

export async function runContender(settings: LabSettings, run: ContenderRun, progress: LabProgress): Promise<ContenderResult> {
  const say = progress.say;
  say(`${run.label}: ${settings.scenario}, ${settings.count} ExternalSecrets, quota ${settings.quotaRps}/s, refresh ${settings.refreshInterval}, seed ${settings.seed}`);
  const env = await startContenderWorld({ esoCrds: run.kind === 'eso-real', redis: run.kind !== 'eso-real', say });
  const controller = createController(run, settings, env);
  const observer = new FleetObserver(env.controlPlane.kubeConfig(), LAB_NAMESPACE);
  const scenario = SCENARIO_FACTORIES[settings.scenario]();
  let ticker: NodeJS.Timeout | undefined;
  let pauseProbe: ReturnType<typeof startPauseProbe> | undefined;
  try {
    const kc = env.controlPlane.kubeConfig();
    for (const op of ['GetSecretValue', 'BatchGetSecretValue'] as const) await env.aws.setQuota(op, settings.quotaRps, settings.quotaRps);
    const plan = scenario.plan?.(settings) ?? planStorm(settings.count, settings.remoteSecrets, settings.seed);
    // The ESO models and the real ESO have no budget: the annotation would put them behind
    // the workers' limiter, which the reference controller does not have.
    await prepareStore(kc, env.aws, plan, run.kind === 'herdless' ? settings.budgetRps : undefined);
    await scenario.prepare?.(kc, env.aws.region, run.kind === 'herdless' ? settings.budgetRps : undefined);
    if (!settings.startAfterCreate) {
      await controller.start();
      await scenario.afterStart?.(controller);
    }
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
        scrape: async (port) => (await scrapeLoopbackMetrics([port], 5_000, PROBED_METRICS))[0] as string,
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

    await scenario.startWithStorm?.(kc, plan, settings.refreshInterval);
    const createdAt = await createStorm(kc, plan, settings.refreshInterval);
    mark(`created ${settings.count} ExternalSecrets in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
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

    const ctx: ScenarioContext = {
      settings,
      run,
      world: env,
      controller,
      observer,
      kc,
      plan,
      t0,
      createdAt,
      converge,
      setPhase: (p) => (phase = p),
      mark,
      waitFor,
      allReady,
    };
    const outcome = await scenario.run(ctx);
    const { probesCreatedAt, window, sharedKeys, missedGroups } = outcome;
    converge = outcome.converge;
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
    const replies: ProviderReply[] = (await env.aws.requests(t0)).map((r) => ({ atMs: r.atMs, outcome: r.outcome, operation: r.operation, ...(sharedKeys && r.accessKeyId ? { accessKeyId: r.accessKeyId } : {}) }));
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
      records: scenario.records ? scenario.records(observer.records) : observer.records,
      replies,
      samples,
      probes: pauseProbe.samples,
      converge,
      ...(window ? { window } : {}),
      ...(sharedKeys ? { sharedKeys } : {}),
      ...(missedGroups ? { missedGroups } : {}),
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
    scenario.close?.();
    await controller.close().catch(() => undefined);
    await env.stop();
  }
}

