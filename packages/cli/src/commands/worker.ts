import { Redis } from 'ioredis';
import { configureApiRateLimit, createLogger, loadConfig, routineShareOf, startMetricsServer } from '@herdless/core';
import { CallPath, ProviderCache } from '@herdless/providers';
import { runWorker, workerConfigSchema } from '@herdless/worker';
import { onShutdown } from './lifecycle.js';

export async function runWorkerCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(`herdless worker: flags ${Object.keys(workerConfigSchema.shape).map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(' ')}`);
    return 0;
  }
  const config = loadConfig(workerConfigSchema, argv);
  const logger = createLogger('worker', config.logLevel);
  configureApiRateLimit({ qps: config.kubeApiQps, burst: config.kubeApiBurst });
  const metrics = startMetricsServer(config.metricsPort);
  // The limiter's scripts run on their own connection: BullMQ's worker connection blocks.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const clients = new ProviderCache({ sessionRefreshMarginMs: config.awsSessionRefreshMarginSeconds * 1000 });
  const callPath = new CallPath({
    redis,
    budgets: { byType: config.budgets },
    coalesceWindowMs: config.coalesceWindowMs,
    batching: config.batching,
    keyPrefix: config.queuePrefix,
    // Routine refreshes keep to the share the scheduler plans them at.
    limiter: { routineShare: routineShareOf(config.targetUtilisation, config.reservedShare) },
  });
  const worker = await runWorker(config, { logger, providers: (ctx) => callPath.createProvider(ctx, clients) });
  await onShutdown(async () => {
    await worker.close();
    callPath.close();
    clients.close();
    redis.disconnect();
    metrics?.close();
  }, logger);
  return 0;
}
