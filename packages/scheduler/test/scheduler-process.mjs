// A scheduler replica as its own process, for the failover test: what `herdless scheduler`
// does, without depending on the CLI's other commands being built. Stops on SIGTERM/SIGINT.
import { createLogger, loadConfig } from '@herdless/core';
import { runScheduler, schedulerConfigSchema } from '../dist/index.js';

const config = loadConfig(schedulerConfigSchema, process.argv.slice(2));
const logger = createLogger('scheduler', config.logLevel);
const controller = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => controller.abort());
await runScheduler(config, { logger, signal: controller.signal });
process.exit(0);
