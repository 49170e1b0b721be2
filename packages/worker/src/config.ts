// The worker's configuration: one zod object, parsed once at start (core's loadConfig).
import { z } from 'zod';
import { commonConfigShape } from '@herdless/core';

export const workerConfigSchema = z.object({
  ...commonConfigShape,
  concurrency: z.coerce.number().int().min(1).max(10_000).default(50),
  /** Endpoint override for AWS (our endpoint in the lab and tests). */
  awsEndpoint: z.string().url().optional(),
  /** Throttled jobs go back to delayed for the limiter's wait plus up to this much jitter. */
  throttleJitterMs: z.coerce.number().int().min(0).default(250),
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;
