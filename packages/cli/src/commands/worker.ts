import { createLogger, loadConfig, startMetricsServer } from '@herdless/core';
import { createProvider, ProviderCache } from '@herdless/providers';
import { runWorker, workerConfigSchema } from '@herdless/worker';
import { onShutdown } from './lifecycle.js';

export async function runWorkerCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(`herdless worker: flags ${Object.keys(workerConfigSchema.shape).map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(' ')}`);
    return 0;
  }
  const config = loadConfig(workerConfigSchema, argv);
  const logger = createLogger('worker', config.logLevel);
  const metrics = startMetricsServer(config.metricsPort);
  const cache = new ProviderCache();
  const worker = await runWorker(config, { logger, providers: (ctx) => createProvider(ctx, cache) });
  await onShutdown(async () => {
    await worker.close();
    cache.close();
    metrics?.close();
  }, logger);
  return 0;
}
