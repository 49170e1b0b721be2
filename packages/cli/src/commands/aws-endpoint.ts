import { z } from 'zod';
import { loadConfig } from '@herdless/core';
import { startAwsEndpoint } from '@herdless/lab';
import { onShutdown } from './lifecycle.js';

const schema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(4566),
  host: z.string().default('127.0.0.1'),
});

/** Runs the lab's AWS Secrets Manager endpoint alone (its control API is under /_herdless/). */
export async function runAwsEndpointCommand(argv: string[]): Promise<number> {
  const config = loadConfig(schema, argv);
  const endpoint = await startAwsEndpoint({ port: config.port, host: config.host });
  console.log(`AWS endpoint listening on ${endpoint.url}`);
  await onShutdown(() => endpoint.stop());
  return 0;
}
