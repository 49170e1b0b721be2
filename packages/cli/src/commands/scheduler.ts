import { configureApiRateLimit, createLogger, loadConfig, startMetricsServer } from '@herdless/core';
import { runScheduler, schedulerConfigSchema } from '@herdless/scheduler';
import { onShutdown } from './lifecycle.js';

export async function runSchedulerCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(`herdless scheduler: flags ${Object.keys(schedulerConfigSchema.shape).map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(' ')}`);
    return 0;
  }
  const config = loadConfig(schedulerConfigSchema, argv);
  const logger = createLogger('scheduler', config.logLevel);
  configureApiRateLimit({ qps: config.kubeApiQps, burst: config.kubeApiBurst });
  const metrics = startMetricsServer(config.metricsPort);
  const controller = new AbortController();
  const running = runScheduler(config, { logger, signal: controller.signal });
  await onShutdown(async () => {
    controller.abort();
    await running;
    metrics?.close();
  }, logger);
  return 0;
}
