import { startTelemetry, telemetryConfigOf } from '@herdless/core';
import { runScheduler, schedulerConfigSchema } from '@herdless/scheduler';
import type { CommandModule } from './command-spec.js';
import { onShutdown, startProcess } from './lifecycle.js';

export const schedulerCommand: CommandModule = {
  description:
    'The scheduler: every replica keeps warm informers on ExternalSecrets and stores; the replica holding the Lease ' +
    "plans each sync into a one-second slot before its deadline within the store's budget and enqueues it in Redis. " +
    'Runs until SIGTERM or SIGINT.',
  flags: schedulerConfigSchema,
  async run(argv) {
    const { config, logger, metrics, started } = startProcess('scheduler', schedulerConfigSchema, argv);
    const telemetry = await startTelemetry(telemetryConfigOf('herdless-scheduler', config));
    const controller = new AbortController();
    const running = runScheduler(config, { logger, signal: controller.signal });
    // Its own checks (informers, Redis, leadership) are registered by now, synchronously.
    started();
    await onShutdown(async () => {
      controller.abort();
      await running;
      metrics?.close();
      await telemetry?.shutdown();
    }, logger);
    return 0;
  },
};
