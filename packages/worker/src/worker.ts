// The worker process: one BullMQ Worker per shard queue, each job one syncExternalSecret pass.
// A throttled job burns no attempt: the limiter's "not yet" with its place in line near is waited
// for in the worker (a timer, no Redis commands); a longer wait goes back to delayed until the
// limiter's time (plus jitter), holding no worker slot.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { hostname } from 'node:os';
import { cpuUsage, pid } from 'node:process';
import { DelayedError, Worker, type Job } from 'bullmq';
import {
  addReadinessCheck,
  checkRedisReachable,
  contextOfTraceparent,
  Counter,
  createRedisConnection,
  Gauge,
  Histogram,
  isHerdlessError,
  kubeClients,
  loadKubeConfig,
  Reasons,
  setObjectMetrics,
  STALE_ROUTINE_MS,
  supersededByTerm,
  syncJobSchema,
  syncQueueName,
  withSpan,
  type Logger,
  type SyncJob,
} from '@herdless/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { callLaneOf, withCallLane } from '@herdless/providers';
import { awsWebIdentityOf, type WorkerConfig } from './config.js';
import { syncExternalSecret, type ProviderSource } from './sync.js';
import { defaultTemplateEnginePath, TemplateEngine } from './template/engine.js';
import { LazyTemplateEngine } from './template/lazy-engine.js';
import { createWorkerCaches } from './worker-caches.js';
import { recordSyncPass } from './sync-metrics.js';
import { DEFAULT_EVENT_LIMITS, EventRateLimiter, SyncEventRecorder } from './sync-events.js';
import { CredentialsCache } from './credentials-cache.js';
import { LeaderTermReader } from './leader-term.js';

const stalledJobs = new Counter({
  name: 'herdless_sync_jobs_stalled_total',
  help: 'Sync jobs whose lock lapsed while they ran (BullMQ moved them back to wait; they run again).',
});

/** A stall of this process longer than this is logged: job locks lapse after 30 s without renewal. */
const LOOP_STALL_WARN_MS = 5_000;

const syncs = new Counter({
  name: 'herdless_syncs_total',
  help:
    'Sync passes by result (created, updated, unchanged, skipped, missing, deleted, retained, intact, gone, stale, covered, foreign, superseded, failed, throttled) and reason.',
  labelNames: ['result', 'reason'],
});

/** Exported for the lab and the tests, which read it back from every worker's /metrics. */
export const SYNC_START_LATENESS = 'herdless_sync_start_lateness_seconds';
const startLateness = new Histogram({
  name: SYNC_START_LATENESS,
  help:
    'Time from a sync job\'s planned time to the start of the pass that ran it (passes deferred by the limiter or a breaker are not counted; ' +
    'their wait shows in the pass that runs), by the job\'s reason (its lane). Growing values: the workers run behind the plan.',
  labelNames: ['reason'],
  buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
});

/** Exported for the lab, which separates a worker's start from its syncs in `herdless bench worker`. */
export const WORKER_START_CPU = 'herdless_worker_start_cpu_seconds';
const startCpu = new Gauge({
  name: WORKER_START_CPU,
  help: 'CPU time (user and system) this process had used when it began taking jobs: its start, module loading and the first informer lists included.',
});

export interface RunningWorker {
  close(): Promise<void>;
}

export async function runWorker(config: WorkerConfig, opts: { logger: Logger; providers: ProviderSource }): Promise<RunningWorker> {
  const { logger } = opts;
  // First: a worker without its template engine stops here with the flag to fix, not at each sync.
  // Lazy (the default): only the file is checked now, and the engine starts at the first sync
  // that needs it (lazy-engine.ts).
  const engineOptions = {
    path: config.templateEngine ?? defaultTemplateEnginePath(),
    timeoutMs: config.templateTimeoutMs,
    memoryLimitBytes: config.templateMemoryMib * 2 ** 20,
    threads: config.templateThreads,
  };
  const templateEngine =
    config.templateStart === 'eager'
      ? await TemplateEngine.load(engineOptions)
      : await LazyTemplateEngine.create(engineOptions, {
          onStart: (ms, error) =>
            error ? logger.error({ ms, err: error.message }, 'the template engine could not start; templated syncs fail with TemplateError') : logger.info({ ms, threads: engineOptions.threads }, 'template engine started'),
        });
  const kube = kubeClients(loadKubeConfig(config.kubeconfig));
  // BullMQ duplicates it for each Worker's blocking connection (core sets maxRetriesPerRequest: null).
  const connection = createRedisConnection(config, 'bullmq');
  // Warm caches first: a worker that starts taking jobs cold would read everything directly.
  setObjectMetrics(config.objectMetrics);
  const caches = createWorkerCaches(kube, logger, config.watchNamespace);
  // /readyz: red until the caches have listed, and whenever Redis does not answer.
  let synced = false;
  const removeChecks = [
    addReadinessCheck('informers', () => (synced ? { ok: true } : { ok: false, reason: 'the informers have not listed yet' })),
    addReadinessCheck('redis', () => checkRedisReachable(connection)),
  ];
  await caches.start();
  synced = true;
  const deps = {
    kube,
    caches,
    credentials: new CredentialsCache(),
    serviceAccounts: new CredentialsCache<Record<string, string>>(),
    providers: opts.providers,
    templateEngine,
    logger,
    now: () => new Date(),
    controllerClass: config.controllerClass,
    events: new SyncEventRecorder(
      kube,
      logger,
      new EventRateLimiter({ ...DEFAULT_EVENT_LIMITS, totalBurst: config.eventBurst, totalRps: config.eventRps }),
      `${hostname()}-${pid}`,
    ),
    ...(config.awsEndpoint ? { awsEndpoint: config.awsEndpoint } : {}),
    ...(config.awsStsEndpoint ? { awsStsEndpoint: config.awsStsEndpoint } : {}),
    ...awsWebIdentityOf(config),
  };

  const terms = new LeaderTermReader(connection, config.queuePrefix, logger);

  const process = async (job: Job, token?: string): Promise<string> => {
    const parsed = syncJobSchema.safeParse(job.data);
    if (!parsed.success) {
      logger.error({ jobId: job.id, issues: parsed.error.issues.map((i) => i.path.join('.')) }, 'discarding a job that does not match the sync job contract');
      syncs.inc({ result: 'invalid', reason: '' });
      return 'invalid';
    }
    // When the pass that runs began: a pass deferred by the limiter is not counted late, its wait
    // shows in the pass after it.
    let startedAt = Date.now();
    // A routine job left from before the current leader's term, which that leader replaces with a
    // catch-up job: completed without a call (see supersededByTerm). The term is read only for
    // routine jobs long past their slot.
    const sync = parsed.data;
    if (sync.reason === 'refresh' && sync.plannedAt < startedAt - STALE_ROUTINE_MS && supersededByTerm(sync, await terms.current())) {
      syncs.inc({ result: 'superseded', reason: '' });
      return 'superseded';
    }
    const observeLateness = () => startLateness.observe({ reason: parsed.data.reason }, Math.max(0, startedAt - parsed.data.plannedAt) / 1000);
    const recordPass = (result: string) => {
      const created = caches.externalSecret(sync.namespace, sync.name)?.metadata?.creationTimestamp;
      recordSyncPass({ job: sync, result, startedAtMs: startedAt, endedAtMs: Date.now(), ...(created ? { createdAtMs: new Date(created).getTime() } : {}) });
    };
    // Time this pass has waited in the worker for the limiter's line (see deferInWorkerMs).
    let waitedInWorkerMs = 0;
    for (;;) {
      startedAt = Date.now();
      try {
        const outcome = await runPass(sync, job, startedAt);
        syncs.inc({ result: outcome.result, reason: 'reason' in outcome ? outcome.reason : '' });
        recordPass(outcome.result);
        observeLateness();
        return outcome.result;
      } catch (e) {
        recordPass(isHerdlessError(e) && e.retry === 'throttled' ? 'throttled' : 'error');
        if (isHerdlessError(e) && e.retry === 'throttled') {
          syncs.inc({ result: 'throttled', reason: e.reason });
          const base = e.retryAfterMs ?? 1000;
          // The limiter's "not yet": its place in line is already spaced from the others' (no
          // jitter needed), and when it is close the job waits for it here: going back to delayed
          // and being fetched again costs about 25 Redis commands, a timer costs none.
          if (e.reason === Reasons.ProviderThrottled && waitedInWorkerMs + base <= config.deferInWorkerMs) {
            waitedInWorkerMs += base;
            await sleep(base);
            continue;
          }
          // While a breaker is open every deferred job gets the same retry time (the next probe):
          // spread them over half of it, so a probe does not wake thousands of jobs at once.
          const spread = e.reason === Reasons.ProviderUnavailable ? Math.max(config.throttleJitterMs, base / 2) : config.throttleJitterMs;
          const wait = base + Math.floor(Math.random() * spread);
          await job.moveToDelayed(Date.now() + wait, token);
          throw new DelayedError();
        }
        observeLateness();
        throw e;
      }
    }
  };

  /** One sync pass, in its span. */
  const runPass = (sync: SyncJob, job: Job, startedAt: number) => {
    // A new or changed spec's calls skip the limiter's line of deferred work (someone is waiting);
    // a routine refresh's calls keep to the routine share of the budget, as they were planned.
    const attributes = {
      'herdless.namespace': sync.namespace,
      'herdless.name': sync.name,
      'herdless.reason': sync.reason,
      'herdless.queued_ms': Math.max(0, startedAt - job.timestamp),
      'herdless.late_ms': Math.max(0, startedAt - sync.plannedAt),
      'herdless.attempt': job.attemptsStarted,
    };
    return withSpan(
      'herdless.sync',
      attributes,
      async (span) => {
        const done = await withCallLane(callLaneOf(sync.reason), () => syncExternalSecret(sync, deps), sync.namespace);
        span.setAttribute('herdless.result', done.result);
        if ('reason' in done) span.setAttribute('herdless.error.reason', done.reason);
        return done;
      },
      contextOfTraceparent(sync.traceparent),
    );
  };

  const workers = config.shards.map((shard) => {
    const worker = new Worker(syncQueueName(shard), process, {
      connection,
      prefix: config.queuePrefix,
      concurrency: config.concurrency,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 1000 },
    });
    worker.on('failed', (job, err) => {
      logger.warn({ jobId: job?.id, err: err.message }, 'sync job failed');
    });
    worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
    // A job whose lock lapsed runs again (BullMQ's stalled-job check): say so, it costs a second pass.
    worker.on('lockRenewalFailed', (jobIds) => logger.warn({ jobs: jobIds.length }, 'could not renew the locks of active jobs'));
    worker.on('stalled', (jobId) => {
      stalledJobs.inc();
      logger.warn({ jobId }, 'sync job stalled (its lock lapsed); it runs again');
    });
    return worker;
  });
  const used = cpuUsage();
  startCpu.set((used.user + used.system) / 1e6);
  logger.info({ shards: config.shards, concurrency: config.concurrency }, 'worker started');
  // The lock renewals of active jobs run on this event loop: a long stall of it (a huge list to
  // parse, no CPU on a loaded machine) lets locks lapse and jobs run twice. Say when it happens.
  const loopDelay = monitorEventLoopDelay({ resolution: 50 });
  loopDelay.enable();
  const loopWatch = setInterval(() => {
    const maxMs = loopDelay.max / 1e6;
    if (maxMs > LOOP_STALL_WARN_MS) logger.warn({ maxMs: Math.round(maxMs) }, 'worker event loop stalled');
    loopDelay.reset();
  }, 10_000).unref();

  return {
    async close() {
      removeChecks.forEach((remove) => remove());
      clearInterval(loopWatch);
      loopDelay.disable();
      await Promise.all(workers.map((w) => w.close()));
      await caches.stop();
      await templateEngine.close();
      connection.disconnect();
    },
  };
}
