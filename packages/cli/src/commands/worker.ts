import { createRedisConnection, routineShareOf, startTelemetry, telemetryConfigOf, tenantSharesOf } from '@herdless/core';
import { CallPath, ProviderCache } from '@herdless/providers';
import { runWorker, workerConfigSchema } from '@herdless/worker';
import type { CommandModule } from './command-spec.js';
import { onShutdown, startProcess } from './lifecycle.js';

export const workerCommand: CommandModule = {
  description:
    'A worker: takes sync jobs from its shard queues, reads the remote data through the shared rate limiter and ' +
    "circuit breaker (coalescing and batching identical reads), writes the Secret and the ExternalSecret's status. " +
    'Scale it horizontally; every worker of an installation shares one budget. Runs until SIGTERM or SIGINT.',
  flags: workerConfigSchema,
  async run(argv) {
    const { config, logger, metrics, started } = startProcess('worker', workerConfigSchema, argv);
    const telemetry = await startTelemetry(telemetryConfigOf('herdless-worker', config));
    // The limiter's scripts run on their own connection: BullMQ's worker connection blocks.
    const redis = createRedisConnection(config, 'commands');
    const clients = new ProviderCache({ sessionRefreshMarginMs: config.awsSessionRefreshMarginSeconds * 1000 });
    const callPath = new CallPath({
      redis,
      budgets: { byType: config.budgets },
      // The operator's namespace caps and weights, as the scheduler plans with them.
      tenants: tenantSharesOf(config),
      coalesceWindowMs: config.coalesceWindowMs,
      ...(config.batchWindowMs === undefined ? {} : { batchWindowMs: config.batchWindowMs }),
      batching: config.batching,
      keyPrefix: config.queuePrefix,
      // Routine refreshes keep to the share the scheduler plans them at.
      limiter: { routineShare: routineShareOf(config.targetUtilisation, config.reservedShare) },
    });
    const worker = await runWorker(config, { logger, providers: (ctx) => callPath.createProvider(ctx, clients) });
    // Ready once it takes jobs (its template engine loaded, caches listed, queues connected).
    started();
    await onShutdown(async () => {
      await worker.close();
      callPath.close();
      clients.close();
      redis.disconnect();
      metrics?.close();
      await telemetry?.shutdown();
    }, logger);
    return 0;
  },
};
