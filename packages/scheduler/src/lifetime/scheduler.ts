// The scheduler process (the CLI serves /metrics on config.metricsPort): warm informers on every replica, a Lease campaign, and — while this
// replica holds the Lease — one leader session that plans and enqueues. Stopping ends the
// session first, then releases the Lease, so no enqueue follows the release.
import { addReadinessCheck, createLogger, kubeClients, loadKubeConfig, servesExternalSecretIn, type Logger } from '@herdless/core';
import { runClusterExternalSecrets } from '../cluster-external-secrets/index.js';
import type { SchedulerConfig } from '../config.js';
import { SyncEnqueuer } from '../queue/enqueuer.js';
import { createExternalSecretsInformers } from './informers.js';
import { LeaderElector } from './leader.js';
import { bindSchedulerMetrics, recordPlannerMetrics } from './metrics.js';
import { createPlanner } from '../planning/policies.js';
import type { Planner } from '../planning/planner.js';
import { runTermRebuildingOnWipe } from './redis-wipe.js';
import { runLeaderSession } from '../session/session.js';
import { listExternalSecretVersions } from '../session/server-versions.js';

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
  const informers = createExternalSecretsInformers(kc, logger, config.watchNamespace);
  const enqueuer = new SyncEnqueuer({ redis: config, prefix: config.queuePrefix, shards: config.shards, logger });
  // The leader also provisions ClusterExternalSecrets (cluster-wide: not with --watch-namespace).
  const withClusterExternalSecrets = (signal: AbortSignal, session: Promise<void>): Promise<void> =>
    config.watchNamespace
      ? session
      : Promise.all([session, runClusterExternalSecrets({ kube: clients, caches: informers, controllerClass: config.controllerClass, signal, logger })]).then(() => undefined);
  const elector = new LeaderElector({
    coordination: clients.coordination,
    namespace: config.namespace,
    leaseName: config.leaseName,
    identity: config.identity,
    leaseDurationMs: config.leaseDurationSeconds * 1000,
    renewDeadlineMs: config.renewDeadlineSeconds * 1000,
    retryPeriodMs: config.retryPeriodSeconds * 1000,
    releaseOnCancel: true,
    logger,
    onNewLeader: (holder) => logger.info({ leader: holder }, 'leader observed'),
    onStartedLeading: (epoch, termSignal) =>
      withClusterExternalSecrets(termSignal, runTermRebuildingOnWipe({
        enqueuer,
        signal: termSignal,
        checkIntervalMs: config.redisWipeCheckSeconds * 1000,
        logger: logger.child({ epoch }),
        runSession: (signal) =>
          runLeaderSession({
            epoch,
            signal,
            informers,
            enqueuer,
            // A fresh planner per session: its memory is rebuilt from Kubernetes and the queue.
            planner: createPlanner(config),
            shards: config.shards,
            namespaceShards: config.namespaceShards,
            controllerClass: config.controllerClass,
            serverVersions: () => listExternalSecretVersions(kc, config.watchNamespace),
            ...(config.awsEndpoint ? { endpoint: config.awsEndpoint } : {}),
            logger: logger.child({ epoch }),
            ...(options.now ? { now: options.now } : {}),
            onPlanned: (planner) => {
              recordMetricsThrottled(planner);
              options.onPlanned?.(planner);
            },
          }),
      })),
  });

  let lastMetricsMs = 0;
  const recordMetricsThrottled = (planner: Planner): void => {
    const t = (options.now ?? Date.now)();
    if (t - lastMetricsMs < 1000) return;
    lastMetricsMs = t;
    recordPlannerMetrics(planner, planner.placement, t);
  };

  void informers.start();
  const campaign = elector.start();
  const removeChecks = registerReadiness(informers, enqueuer, elector);
  const unbindMetrics = bindSchedulerMetrics(
    {
      isLeader: () => elector.isLeader(),
      leaseTransitions: () => elector.leaseTransitions(),
      queueDepth: () => enqueuer.depth(),
      // ESO's status metrics cover the ExternalSecrets this controller class serves, as ESO's do.
      externalSecrets: () => informers.externalSecrets.list().filter((es) => servesExternalSecretIn((es as { spec?: unknown }).spec, es.metadata?.namespace, config.controllerClass, informers)),
    },
    config.objectMetrics,
  );
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      removeChecks();
      unbindMetrics();
      await elector.stop();
      await campaign;
      await informers.stop();
      await enqueuer.close();
      logger.info('scheduler stopped');
    })());
  options.signal?.addEventListener('abort', () => void stop(), { once: true });
  if (options.signal?.aborted) void stop();
  return {
    isLeader: () => elector.isLeader(),
    epoch: () => elector.epoch,
    synced: () => informers.synced(),
    stop,
  };
}

/** /readyz: the informers have listed, Redis answers, and this replica knows who leads. */
function registerReadiness(informers: { synced(): Promise<void> }, enqueuer: SyncEnqueuer, elector: LeaderElector): () => void {
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
