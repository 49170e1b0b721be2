// The worker's configuration: one zod object, parsed once at start (core's loadConfig).
import { z } from 'zod';
import { ConfigError, commonConfigShape, parseBudgets, tenantSharesConfigShape } from '@herdless/core';
import type { AmbientWebIdentity } from '@herdless/providers';
import { DEFAULT_EVENT_LIMITS } from './sync-events.js';

export const workerConfigSchema = z.object({
  ...commonConfigShape,
  concurrency: z.coerce.number().int().min(1).max(10_000).default(50).meta({ description: 'jobs this worker process runs at once' }),
  awsEndpoint: z.string().url().optional().meta({ description: 'AWS endpoint override (our endpoint in the lab and tests); unset: AWS' }),
  awsStsEndpoint: z.string().url().optional().meta({ description: "STS endpoint override (ESO's AWS_STS_ENDPOINT); default: --aws-endpoint, else AWS's regional one" }),
  awsRoleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/, 'expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)')
    .optional()
    .meta({
      description:
        "the worker's web identity for stores with ambient credentials (IRSA: EKS injects AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE); both or neither; without them the AWS SDK's default chain applies",
    }),
  awsWebIdentityTokenFile: z.string().min(1).optional().meta({ description: 'the web identity token file that goes with --aws-role-arn' }),
  awsRoleSessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/, 'expected 2 to 64 of letters, digits and +=,.@_-').optional().meta({ description: "session name of the worker's web identity" }),
  awsSessionRefreshMarginSeconds: z.coerce.number().int().min(1).max(899).default(300).meta({
    description: "STS sessions (role, auth.jwt, web identity) are refreshed this long before they expire; below STS's shortest session (900 s), so every session is used for a while",
  }),
  throttleJitterMs: z.coerce.number().int().min(0).default(250).meta({ description: "a throttled job goes back to delayed for the limiter's wait plus up to this much jitter" }),
  deferInWorkerMs: z.coerce.number().int().min(0).max(30_000).default(2_000).meta({
    description:
      "a job the rate limiter defers waits in the worker (holding its concurrency slot) for its place in line when that place is this close, at most this long in all, instead of going back to delayed (about 25 Redis commands each time); 0: always back to delayed",
  }),
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
  ...tenantSharesConfigShape,
  coalesceWindowMs: z.coerce.number().int().min(0).max(60_000).default(50).meta({ description: 'identical remote reads within this window become one call' }),
  batchWindowMs: z.coerce.number().int().min(0).max(60_000).optional().meta({
    description: "distinct reads of one provider key wait at most this long for a batch call to fill (unset: the coalescing window)",
  }),
  batching: z.enum(['auto', 'always', 'never']).default('auto').meta({ description: 'BatchGetSecretValue for current-version reads of one quota key: auto (chosen by the budgets), always or never' }),
  eventBurst: z.coerce.number().int().min(0).default(DEFAULT_EVENT_LIMITS.totalBurst).meta({
    description: 'Events on ExternalSecrets (sync failures, recoveries) this process may send at once; each object also has its own limit',
  }),
  templateEngine: z.string().min(1).optional().meta({
    description: "ESO's template engine (eso-template.wasm, built by scripts/setup.sh); unset: ~/.cache/herdless/eso-template-v0.20.4/eso-template.wasm. The worker does not start without it",
  }),
  templateTimeoutMs: z.coerce.number().int().min(10).max(60_000).default(2_000).meta({ description: 'a template render running longer is stopped and its ExternalSecret gets Ready=False, TemplateError' }),
  templateMemoryMib: z.coerce.number().int().min(64).max(4_096).default(128).meta({ description: 'memory one template render may use (MiB); past it the render is stopped with TemplateError' }),
  templateThreads: z.coerce.number().int().min(1).max(64).default(2).meta({ description: 'threads rendering templates off the event loop (each holds one instance of the engine: 70 to 140 MiB)' }),
  templateStart: z.enum(['lazy', 'eager']).default('lazy').meta({
    description:
      "when ESO's template engine starts: lazy, at the first sync with a template, a dataFrom entry or a decoding strategy (a fleet of plain data entries never starts it, and each worker holds about 230 MiB less at 2 threads); eager, at the worker's start",
  }),
  eventRps: z.coerce.number().min(0).default(DEFAULT_EVENT_LIMITS.totalRps).meta({ description: 'Events a second this process may send after --event-burst' }),
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

/** The worker's ambient web identity, when configured: both the role and the token file, or neither. */
export function awsWebIdentityOf(config: Pick<WorkerConfig, 'awsRoleArn' | 'awsWebIdentityTokenFile' | 'awsRoleSessionName'>): { awsWebIdentity?: AmbientWebIdentity } {
  const { awsRoleArn: roleArn, awsWebIdentityTokenFile: tokenFile, awsRoleSessionName: sessionName } = config;
  if (roleArn === undefined && tokenFile === undefined) return {};
  if (roleArn === undefined || tokenFile === undefined) {
    throw new ConfigError(
      `invalid configuration:\n  --aws-role-arn (AWS_ROLE_ARN) and --aws-web-identity-token-file (AWS_WEB_IDENTITY_TOKEN_FILE): expected both or neither, found only ${roleArn === undefined ? '--aws-web-identity-token-file' : '--aws-role-arn'}`,
    );
  }
  return { awsWebIdentity: { roleArn, tokenFile, ...(sessionName ? { sessionName } : {}) } };
}
