import { z } from 'zod';
import { loadConfig } from '@herdless/core';
import { startAwsEndpoint } from '@herdless/lab';
import type { CommandModule } from '../commands/command-spec.js';
import { onShutdown } from '../commands/lifecycle.js';

const schema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(4566).meta({ description: 'port to listen on; 0: a free one (printed)' }),
  host: z.string().default('127.0.0.1').meta({ description: 'address to listen on' }),
});

/** Runs the lab's AWS Secrets Manager endpoint alone (its control API is under /_herdless/). */
export const awsEndpointCommand: CommandModule = {
  description:
    "The lab's AWS endpoint on its own: Secrets Manager and Parameter Store with real quotas and throttling replies. " +
    'Faults and quotas through its control API, e.g. PUT /_herdless/faults {"errorRate":0.5}. Runs until SIGTERM or SIGINT.',
  flags: schema,
  async run(argv) {
    const config = loadConfig(schema, argv);
    const endpoint = await startAwsEndpoint({ port: config.port, host: config.host });
    console.log(`AWS endpoint listening on ${endpoint.url}`);
    await onShutdown(() => endpoint.stop());
    return 0;
  },
};
