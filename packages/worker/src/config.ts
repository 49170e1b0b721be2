// The worker's configuration: one zod object, parsed once at start (core's loadConfig).
import { z } from 'zod';
import { commonConfigShape, parseBudgets } from '@herdless/core';

export const workerConfigSchema = z.object({
  ...commonConfigShape,
  concurrency: z.coerce.number().int().min(1).max(10_000).default(50).meta({ description: 'jobs this worker process runs at once' }),
  awsEndpoint: z.string().url().optional().meta({ description: 'AWS endpoint override (our endpoint in the lab and tests); unset: AWS' }),
  throttleJitterMs: z.coerce.number().int().min(0).default(250).meta({ description: "a throttled job goes back to delayed for the limiter's wait plus up to this much jitter" }),
  budgets: z
    .string()
    .default('')
    .transform((text, ctx) => {
      try {
        return parseBudgets(text);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    })
    .meta({ description: "requests a second per provider type, as the scheduler's --budgets (\"aws-sm=50,aws-sm.BatchGetSecretValue=5\"); same value on both" }),
  coalesceWindowMs: z.coerce.number().int().min(0).max(60_000).default(50).meta({ description: 'identical remote reads within this window become one call' }),
  batching: z.enum(['auto', 'always', 'never']).default('auto').meta({ description: 'BatchGetSecretValue for current-version reads of one quota key: auto (chosen by the budgets), always or never' }),
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;
