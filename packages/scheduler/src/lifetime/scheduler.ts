// The scheduler process (the CLI serves /metrics on config.metricsPort): warm informers on every replica, a Lease campaign, and — while this
// replica holds the Lease — one leader session that plans and enqueues. Stopping ends the
// session first, then releases the Lease, so no enqueue follows the release.
import { addReadinessCheck, createLogger, kubeClients, loadKubeConfig, servesExternalSecretIn, type Logger } from '@herdless/core';
import { runClusterExternalSecrets } from '../cluster-external-secrets/index.js';
import type { SchedulerConfig } from '../config.js';
import { SyncEnqueuer, type QueuedSyncJob } from '../queue/enqueuer.js';
import { createExternalSecretsInformers } from './informers.js';
import { LeaderElector } from './leader.js';
import { ShardCampaign } from './shard-campaign.js';
import type { TermGate } from './term-gate.js';
import { planShardOf } from '../sharding/plan-shard.js';
import { ShardBudgetExchange } from '../sharding/shard-share.js';
import { bindSchedulerMetrics, recordPlannerMetrics } from './metrics.js';
import { createPlanner } from '../planning/policies.js';
import type { Planner } from '../planning/planner.js';
import { runTermRebuildingOnWipe } from './redis-wipe.js';
import { runLeaderSession } from '../session/session.js';
import { readExternalSecretVersions } from '../session/server-versions.js';

export interface SchedulerOptions {
  logger?: Logger;
  /** Aborting it stops the scheduler gracefully (the CLI aborts on SIGTERM). */
  signal?: AbortSignal;
  now?: () => number;
  /** Observes each planning pass (tests, metrics). */
  onPlanned?: (planner: Planner) => void;
}

export interface SchedulerHandle {
  isLeader(): boolean;
  /** leaseTransitions of the current term, while leading. */
  epoch(): number | undefined;
  /** Resolves when the informers have delivered their first lists. */
  synced(): Promise<void>;
  /** Stops planning, releases the Lease, stops the informers and closes the queues. */
  stop(): Promise<void>;
}

export function startScheduler(config: SchedulerConfig, options: SchedulerOptions = {}): SchedulerHandle {
  const logger = options.logger ?? createLogger('scheduler', config.logLevel);
  const kc = loadKubeConfig(config.kubeconfig);
  const clients = kubeClients(kc);
  // With plan shards, the ExternalSecrets cache holds only this replica's shards (hold/release below).
  const informers = createExternalSecretsInformers(kc, logger, config.watchNamespace, { planShards: config.planShards, clusterExternalSecretsShard: 0 });
  const enqueuer = new SyncEnqueuer({ redis: config, prefix: config.queuePrefix, shards: config.shards, logger });
  // The leader also provisions ClusterExternalSecrets (cluster-wide: not with --watch-namespace).
  const withClusterExternalSecrets = (signal: AbortSignal, gate: TermGate, session: Promise<void>): Promise<void> =>
    config.watchNamespace
      ? session
      : Promise.all([session, runClusterExternalSecrets({ kube: clients, caches: cesCaches, controllerClass: config.controllerClass, signal, gate, logger })]).then(() => undefined);
  // ClusterExternalSecrets span shards: an ExternalSecret of a shard held elsewhere is known by name ("already exists").
  const cesCaches = { ...informers, externalSecrets: { get: (name: string, namespace?: string) => informers.fleetExternalSecret(namespace ?? '', name) } };
  // Plan shards agree on their shares of each budget from their demand (sharding/shard-share.ts).
  const budgetExchange =
    config.planShards > 1 && config.planShardBudgets === 'demand'
      ? new ShardBudgetExchange({ coordination: clients.coordination, namespace: config.namespace, leaseName: config.leaseName, planShards: config.planShards, reservedShare: config.reservedShare, logger })
      : undefined;
  /** The planners of the sessions running now (one per held plan shard): the planner metrics sum them. */
  const livePlanners = new Set<Planner>();
  /** One term: plan (every ExternalSecret, or one plan shard's) until `termSignal` aborts. */
  const runTerm = (epoch: number, termSignal: AbortSignal, gate: TermGate, planShard?: number, firstPendingJobs?: Promise<QueuedSyncJob[]>): Promise<void> => {
    /** The queue's snapshot read beside the shard's list: for the term's first session only (a session rebuilt after a wipe reads its own). */
    let prefetched = firstPendingJobs;
    const plans = planShard === undefined ? undefined : (namespace: string, name: string) => planShardOf(namespace, name, config.planShards) === planShard;
    const termLogger = logger.child(planShard === undefined ? { epoch } : { epoch, planShard });
    return runTermRebuildingOnWipe({
      enqueuer,
      signal: termSignal,
      checkIntervalMs: config.redisWipeCheckSeconds * 1000,
      logger: termLogger,
      runSession: async (signal) => {
        const first = prefetched;
        prefetched = undefined;
        // A fresh planner per session: its memory is rebuilt from Kubernetes and the queue.
        // A plan shard's places its items on its share of each budget, read before it plans.
        const share = planShard === undefined ? undefined : budgetExchange?.shareFor(planShard);
        const planner = createPlanner({ ...config, planShards: config.planShards, ...(share ? { budgetShare: share.budgetShare } : {}) });
        const leave = share && budgetExchange ? await budgetExchange.join(share, planner) : undefined;
        livePlanners.add(planner);
        try {
          await runLeaderSession({
            epoch,
            signal,
            gate,
            informers,
            enqueuer,
            planner,
            ...(share ? { attachReplanner: (replan) => share.attach(replan) } : {}),
            shards: config.shards,
            namespaceShards: config.namespaceShards,
            controllerClass: config.controllerClass,
            serverVersions: (wanted) => readExternalSecretVersions(kc, wanted, config.watchNamespace, plans),
            ...(first ? { pendingJobs: () => first } : {}),
            ...(config.awsEndpoint ? { endpoint: config.awsEndpoint } : {}),
            ...(plans === undefined || planShard === undefined ? {} : { plans, planShard }),
            logger: termLogger,
            ...(options.now ? { now: options.now } : {}),
            onPlanned: (planner) => {
              recordMetricsThrottled();
              options.onPlanned?.(planner);
            },
          });
        } finally {
          livePlanners.delete(planner);
          recordPlannerMetrics(livePlanners, (options.now ?? Date.now)());
          leave?.();
        }
      },
    });
  };
  const leaseTimings = {
    leaseDurationMs: config.leaseDurationSeconds * 1000,
    renewDeadlineMs: config.renewDeadlineSeconds * 1000,
    retryPeriodMs: config.retryPeriodSeconds * 1000,
  };
  // One leader plans everything, or (--plan-shards above 1) each replica plans the shards the
  // campaign gives it; the holder of shard 0 also provisions ClusterExternalSecrets.
  const shardCampaign =
    config.planShards > 1
      ? new ShardCampaign({
          coordination: clients.coordination,
          namespace: config.namespace,
          leaseName: config.leaseName,
          identity: config.identity,
          planShards: config.planShards,
          ...leaseTimings,
          logger,
          ...(budgetExchange ? { budgets: budgetExchange } : {}),
          onStartedLeading: (shard, epoch, termSignal, gate) => planShardTerm(shard, epoch, termSignal, gate),
        })
      : undefined;
  const election: Election = shardCampaign
    ? shardedElection(shardCampaign)
    : new LeaderElector({
          coordination: clients.coordination,
          namespace: config.namespace,
          leaseName: config.leaseName,
          identity: config.identity,
          ...leaseTimings,
          releaseOnCancel: true,
          logger,
          onNewLeader: (holder) => logger.info({ leader: holder }, 'leader observed'),
          onStartedLeading: (epoch, termSignal, gate) => withClusterExternalSecrets(termSignal, gate, runTerm(epoch, termSignal, gate)),
        });

  /**
   * Shards whose term ended while this replica still campaigns for them (its work failed, the
   * Lease changed hands while the term was paused, or another replica took the Lease and the
   * campaign has not yet handed the shard over; a late renewal alone pauses the term, it does
   * not end it): their ExternalSecrets stay in the cache, kept current by the watch, for as long
   * as the campaign goes on (looked at every retry period), so the next term the elector starts
   * finds them without listing the fleet again. At 100,000 in a creation storm, every such restart
   * listed the whole fleet (38 to 173 s on a loaded API server), which slowed the API server
   * further and made the next renewal late again.
   */
  const lingering = new Map<number, NodeJS.Timeout>();
  const linger = (shard: number): void => {
    const timer = setTimeout(() => {
      if (lingering.get(shard) !== timer) return; // a new term took it
      lingering.delete(shard);
      if (shardCampaign?.campaigns(shard)) linger(shard);
      else void informers.release(shard);
    }, leaseTimings.retryPeriodMs);
    timer.unref();
    lingering.set(shard, timer);
  };
  /** A plan shard's term: its ExternalSecrets are brought into the cache first, and dropped after (or after a while: `lingering`). */
  async function planShardTerm(shard: number, epoch: number, termSignal: AbortSignal, gate: TermGate): Promise<void> {
    try {
      const t0 = Date.now();
      // The queue's snapshot is read beside the shard's list, not after it: both grow with the
      // fleet (a takeover at 100,000 waits for each). The Lease is held, so the previous holder
      // (fenced at its renew deadline) adds nothing now; a job that runs between the snapshot and
      // the list is judged by its newer status, as one that runs after the snapshot always was.
      const pending = enqueuer.pendingJobs((namespace, name) => planShardOf(namespace, name, config.planShards) === shard);
      pending.catch(() => undefined); // the session awaits it and sees the error; a term stopped before that drops it
      const kept = lingering.get(shard);
      lingering.delete(shard);
      // A lingering shard is still held (the ended term's hold is this term's now).
      if (kept) clearTimeout(kept);
      else await informers.hold(shard);
      logger.info({ planShard: shard, epoch, holdMs: Date.now() - t0, listed: !kept }, "the shard's ExternalSecrets are in the cache");
      if (termSignal.aborted) return;
      await (shard === 0 ? withClusterExternalSecrets(termSignal, gate, runTerm(epoch, termSignal, gate, shard, pending)) : runTerm(epoch, termSignal, gate, shard, pending));
    } finally {
      if (shardCampaign?.campaigns(shard) && !lingering.has(shard)) linger(shard);
      else await informers.release(shard);
    }
  }

  // At most once a second, and once more after the last pass of a busy second (a replica's
  // second shard plans within the second its first did; without the trailing record its figures
  // would wait for the next pass, which a steady fleet may not have for minutes).
  let lastMetricsMs = 0;
  let trailingMetrics: NodeJS.Timeout | undefined;
  const recordMetricsThrottled = (): void => {
    const t = (options.now ?? Date.now)();
    if (t - lastMetricsMs < 1000) {
      trailingMetrics ??= setTimeout(() => {
        trailingMetrics = undefined;
        recordMetricsThrottled();
      }, lastMetricsMs + 1000 - t);
      trailingMetrics.unref();
      return;
    }
    lastMetricsMs = t;
    recordPlannerMetrics(livePlanners, t);
  };

  void informers.start();
  const campaign = election.start();
  const removeChecks = registerReadiness(informers, enqueuer, election);
  const unbindMetrics = bindSchedulerMetrics(
    {
      isLeader: () => election.isLeader(),
      leaseTransitions: () => election.leaseTransitions(),
      queueDepth: () => enqueuer.depth(),
      // ESO's status metrics cover the ExternalSecrets this controller class serves, as ESO's do.
      // With plan shards, only the held shards' (a shard's series go with it).
      externalSecrets: () =>
        informers.externalSecrets
          .list()
          .filter((es) => informers.holds(es.metadata?.namespace ?? '', es.metadata?.name ?? '') && servesExternalSecretIn((es as { spec?: unknown }).spec, es.metadata?.namespace, config.controllerClass, informers)),
    },
    config.objectMetrics,
  );
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      removeChecks();
      unbindMetrics();
      clearTimeout(trailingMetrics);
      await election.stop();
      await campaign;
      for (const timer of lingering.values()) clearTimeout(timer);
      lingering.clear();
      await informers.stop();
      await enqueuer.close();
      logger.info('scheduler stopped');
    })());
  options.signal?.addEventListener('abort', () => void stop(), { once: true });
  if (options.signal?.aborted) void stop();
  return {
    isLeader: () => election.isLeader(),
    epoch: () => election.epoch,
    synced: () => informers.synced(),
    stop,
  };
}

/** What the process needs of its election: the one leader Lease, or the plan shards' campaign. */
type Election = Pick<LeaderElector, 'start' | 'stop' | 'isLeader' | 'leaseTransitions' | 'leadershipKnown' | 'epoch'>;

/** The shard campaign seen as an election: leading while it plans any shard; the epoch is shard 0's when held. */
function shardedElection(campaign: ShardCampaign): Election {
  return {
    start: () => campaign.start(),
    stop: () => campaign.stop(),
    isLeader: () => campaign.held().length > 0,
    leaseTransitions: () => undefined,
    leadershipKnown: () => campaign.membershipKnown(),
    get epoch() {
      return campaign.held().find((h) => h.shard === 0)?.epoch;
    },
  };
}

/** /readyz: the informers have listed, Redis answers, and this replica knows who leads. */
function registerReadiness(informers: { synced(): Promise<void> }, enqueuer: SyncEnqueuer, elector: Election): () => void {
  let synced = false;
  void informers.synced().then(() => (synced = true));
  const removers = [
    addReadinessCheck('informers', () => (synced ? { ok: true } : { ok: false, reason: 'the informers have not listed yet' })),
    addReadinessCheck('redis', () => enqueuer.redisReachable()),
    addReadinessCheck('leadership', () => (elector.leadershipKnown() ? { ok: true } : { ok: false, reason: 'the Lease has not been read yet' })),
  ];
  return () => removers.forEach((remove) => remove());
}

/** Runs the scheduler until `signal` aborts, then stops it gracefully (the Lease is released). */
export async function runScheduler(config: SchedulerConfig, options: SchedulerOptions = {}): Promise<void> {
  const handle = startScheduler(config, options);
  if (!options.signal) throw new Error('expected a signal to stop the scheduler with, found none');
  await new Promise<void>((resolve) => {
    if (options.signal?.aborted) return resolve();
    options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await handle.stop();
}
