// The scheduler process's one configuration object (flags and HERDLESS_* environment).
// Lease timings keep client-go's names and defaults; fractions of a second are allowed so
// tests can run elections in a few seconds.
import { hostname } from 'node:os';
import { commonConfigShape } from '@herdless/core';
import { z } from 'zod';

const seconds = z.coerce.number().positive();
const fraction = z.coerce.number().min(0).max(1);

export const PLANNER_POLICIES = ['herdless', 'eso', 'eso-jitter'] as const;
export type PlannerPolicyName = (typeof PLANNER_POLICIES)[number];

export const schedulerConfigSchema = z
  .object({
    ...commonConfigShape,
    /** Namespace of the Lease. */
    namespace: z.string().min(1).default('herdless-system'),
    leaseName: z.string().min(1).default('herdless-scheduler'),
    /** This replica's holderIdentity on the Lease. */
    identity: z.string().min(1).default(`${hostname()}-${process.pid}`),
    leaseDurationSeconds: seconds.default(15),
    renewDeadlineSeconds: seconds.default(10),
    retryPeriodSeconds: seconds.default(2),
    /** The AWS endpoint override the workers use; part of the provider key, so both must agree. */
    awsEndpoint: z.string().url().optional(),
    /** Which planner decides when syncs run: Herdless's, or a model of the reference controller. */
    policy: z.enum(PLANNER_POLICIES).default('herdless'),
    /** Seed of the eso-jitter policy's random offsets (and of retry jitter), for reproducible benches. */
    seed: z.coerce.number().int().optional(),
    /** Budgets in requests/second per provider type, e.g. "aws-sm=50,aws-ps=8": the operator's alone (a store's herdless.io/budget-rps only caps that store). */
    budgets: z.string().default(''),
    /** Which shard's queue a namespace's ExternalSecrets go to ("team-a=pool-a,team-b=pool-b"); other namespaces go to the first of --shards. The operator's, not the tenants': an ExternalSecret cannot choose its pool. */
    namespaceShards: z
      .string()
      .default('')
      .transform((text, ctx) => {
        const map: Record<string, string> = {};
        for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
          const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)=([a-zA-Z0-9_-]+)$/.exec(part);
          if (!m) {
            ctx.addIssue({ code: 'custom', message: `expected "namespace=shard" pairs separated by commas, found "${part}"` });
            return z.NEVER;
          }
          map[m[1] as string] = m[3] as string;
        }
        return map;
      }),
    /** The window before a deadline a refresh may be placed in, as a fraction of the interval. */
    spreadFraction: fraction.default(0.1),
    /** The same window for the refresh after an off-plan sync (new, changed, retry, overdue): 1 = the whole interval. */
    respreadFraction: fraction.default(1),
    /** eso models: syncs per second the modelled controller starts (ESO's 50 QPS client at ~5 calls per sync). */
    esoSyncsPerSecond: z.coerce.number().positive().default(10),
    /** First retry backoff after a transient failure (full jitter, doubling per attempt). */
    retryBaseSeconds: seconds.default(5),
    /** Ceiling of the retry backoff; it is also at most half the refresh interval. */
    retryMaxSeconds: seconds.default(3600),
  })
  .superRefine((c, ctx) => {
    const unserved = [...new Set(Object.values(c.namespaceShards))].filter((s) => !c.shards.includes(s));
    if (unserved.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['namespaceShards'], message: `expected every shard to be one of --shards (${c.shards.join(', ')}), found ${unserved.join(', ')}` });
    }
    if (!(c.leaseDurationSeconds > c.renewDeadlineSeconds)) {
      ctx.addIssue({ code: 'custom', path: ['leaseDurationSeconds'], message: `expected leaseDurationSeconds (${c.leaseDurationSeconds}) > renewDeadlineSeconds (${c.renewDeadlineSeconds})` });
    }
    if (!(c.renewDeadlineSeconds > c.retryPeriodSeconds * 1.2)) {
      ctx.addIssue({ code: 'custom', path: ['renewDeadlineSeconds'], message: `expected renewDeadlineSeconds (${c.renewDeadlineSeconds}) > 1.2 × retryPeriodSeconds (${c.retryPeriodSeconds})` });
    }
  });

export type SchedulerConfig = z.infer<typeof schedulerConfigSchema>;
