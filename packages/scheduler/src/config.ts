// The scheduler process's one configuration object (flags and HERDLESS_* environment).
// Lease timings keep client-go's names and defaults; fractions of a second are allowed so
// tests can run elections in a few seconds.
import { hostname } from 'node:os';
import { commonConfigShape, namespacePairs, tenantSharesConfigShape } from '@herdless/core';
import { z } from 'zod';

const seconds = z.coerce.number().positive();
const fraction = z.coerce.number().min(0).max(1);

export const PLANNER_POLICIES = ['herdless', 'eso', 'eso-jitter'] as const;
export type PlannerPolicyName = (typeof PLANNER_POLICIES)[number];

export const schedulerConfigSchema = z
  .object({
    ...commonConfigShape,
    namespace: z.string().min(1).default('herdless-system').meta({ description: 'namespace of the Lease (the release namespace in a cluster)' }),
    leaseName: z.string().min(1).default('herdless-scheduler').meta({ description: 'name of the Lease the replicas compete for' }),
    identity: z
      .string()
      .min(1)
      .default(`${hostname()}-${process.pid}`)
      .meta({ description: "this replica's holderIdentity on the Lease (default: host name and process id)" }),
    leaseDurationSeconds: seconds.default(15).meta({ description: "how long a Lease holds without renewal (client-go's LeaseDuration)" }),
    renewDeadlineSeconds: seconds.default(10).meta({ description: "how long the leader keeps trying to renew before it steps down (client-go's RenewDeadline)" }),
    retryPeriodSeconds: seconds.default(2).meta({ description: "time between attempts to acquire or renew the Lease (client-go's RetryPeriod)" }),
    planShards: z.coerce
      .number()
      .int()
      .min(1)
      .max(256)
      .default(1)
      .meta({
        description:
          'plan shards: ExternalSecrets hash (FNV-1a of namespace/name) onto this many shards, each with its own Lease <lease-name>-plan-<i> and epoch, balanced over the live replicas; every replica must use the same value; 1: one leader plans everything',
      }),
    planShardBudgets: z.enum(['demand', 'equal']).default('demand').meta({
      description:
        "how plan shards divide each budget: demand (in proportion to the demand each shard's owner publishes on its Lease, agreed by the holder of shard 0) or equal (budget ÷ shards); every replica must use the same value",
    }),
    awsEndpoint: z.string().url().optional().meta({ description: 'AWS endpoint override the workers use (part of the provider key, so both must agree); unset: AWS' }),
    policy: z.enum(PLANNER_POLICIES).default('herdless').meta({ description: "which planner decides when syncs run: Herdless's, or a model of the reference controller (bench)" }),
    seed: z.coerce.number().int().optional().meta({ description: "seed of the eso-jitter policy's random offsets and of retry jitter, for reproducible benches" }),
    budgets: z.string().default('').meta({
      description: "requests a second per provider type, e.g. \"aws-sm=50,aws-ps=8\": the operator's alone (a store's herdless.io/budget-rps only lowers that store's share); same value on both",
    }),
    namespaceShards: namespacePairs('"namespace=shard" pairs', (v) => (/^[a-zA-Z0-9_-]+$/.test(v) ? v : undefined))
      .meta({
        description:
          "which shard's queue a namespace's ExternalSecrets go to (\"team-a=pool-a,team-b=pool-b\"); other namespaces go to the first of --shards; the operator's, not the tenants': an ExternalSecret cannot choose its pool",
      }),
    ...tenantSharesConfigShape,
    spreadFraction: fraction.default(0.1).meta({ description: 'the window before a deadline a refresh may be placed in, as a fraction of the interval' }),
    respreadFraction: fraction.default(1).meta({ description: 'the same window for the refresh after an off-plan sync (new, changed, retry, overdue); 1: the whole interval' }),
    esoSyncsPerSecond: z.coerce.number().positive().default(10).meta({ description: "eso policies (bench): syncs a second the modelled controller starts (ESO's 50 QPS client at about 5 calls a sync)" }),
    retryBaseSeconds: seconds.default(5).meta({ description: 'first retry backoff after a transient failure (full jitter, doubling per attempt)' }),
    retryMaxSeconds: seconds.default(3600).meta({ description: 'ceiling of the retry backoff; it is also at most half the refresh interval' }),
    redisWipeCheckSeconds: seconds
      .default(3)
      .meta({ description: 'how often the leader checks that Redis still holds its queues (a FLUSHALL or a restart without persistence loses them); a loss rebuilds the plan from Kubernetes' }),
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
