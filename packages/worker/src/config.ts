// The worker's configuration: one zod object, parsed once at start (core's loadConfig).
import { z } from 'zod';
import { commonConfigShape, parseBudgets } from '@herdless/core';
import { DEFAULT_EVENT_LIMITS } from './sync-events.js';

export const workerConfigSchema = z.object({
  ...commonConfigShape,
  concurrency: z.coerce.number().int().min(1).max(10_000).default(50),
  /** Endpoint override for AWS (our endpoint in the lab and tests). */
  awsEndpoint: z.string().url().optional(),
  /** Throttled jobs go back to delayed for the limiter's wait plus up to this much jitter. */
  throttleJitterMs: z.coerce.number().int().min(0).default(250),
  /** Budgets per provider type, as the scheduler's --budgets ("aws-sm=50,aws-sm.BatchGetSecretValue=5"). */
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
    }),
  /** Identical remote reads within this window become one call. */
  coalesceWindowMs: z.coerce.number().int().min(0).max(60_000).default(50),
  batching: z.enum(['auto', 'always', 'never']).default('auto'),
  /** Events on ExternalSecrets (sync failures, recoveries) this process may send at once, and
   *  per second after that; each object also has its own limit (sync-events.ts). */
  eventBurst: z.coerce.number().int().min(0).default(DEFAULT_EVENT_LIMITS.totalBurst),
  eventRps: z.coerce.number().min(0).default(DEFAULT_EVENT_LIMITS.totalRps),
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;
