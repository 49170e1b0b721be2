// Process lifetime for long-running commands: configuration, logger, the API-server rate limit
// and the metrics port at start; a clean stop on SIGTERM/SIGINT, once.
import type { Server } from 'node:http';
import type { z } from 'zod';
import { addStartingCheck, configureApiRateLimit, createLogger, loadConfig, startMetricsServer, type Logger } from '@herdless/core';

interface ProcessConfig {
  logLevel: string;
  kubeApiQps: number;
  kubeApiBurst: number;
  metricsPort: number;
}

/**
 * What every long-running process does first: its config (flags over env), logger, API-server
 * limit and metrics port. /readyz fails until the command calls `started` (see addStartingCheck).
 */
export function startProcess<S extends z.ZodObject>(name: string, schema: S, argv: string[]): { config: z.infer<S>; logger: Logger; metrics: Server | undefined; started: () => void } {
  const config = loadConfig(schema, argv);
  const { logLevel, kubeApiQps, kubeApiBurst, metricsPort } = config as unknown as ProcessConfig;
  const logger = createLogger(name, logLevel);
  configureApiRateLimit({ qps: kubeApiQps, burst: kubeApiBurst });
  const started = addStartingCheck();
  return { config, logger, metrics: startMetricsServer(metricsPort), started };
}

export function onShutdown(stop: () => Promise<void>, logger?: { info: (o: object, m: string) => void }): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger?.info({ signal }, 'shutting down');
      stop().then(resolve, resolve);
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  });
}
