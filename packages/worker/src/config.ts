// The worker's configuration: one zod object, parsed once at start (core's loadConfig).
import { z } from 'zod';
import { ConfigError, commonConfigShape, parseBudgets } from '@herdless/core';
import type { AmbientWebIdentity } from '@herdless/providers';

export const workerConfigSchema = z.object({
  ...commonConfigShape,
  concurrency: z.coerce.number().int().min(1).max(10_000).default(50),
  /** Endpoint override for AWS (our endpoint in the lab and tests). */
  awsEndpoint: z.string().url().optional(),
  /** Endpoint override for STS (ESO's AWS_STS_ENDPOINT); default: awsEndpoint, else AWS's regional one. */
  awsStsEndpoint: z.string().url().optional(),
  /** The worker's web identity for stores with ambient credentials (IRSA: EKS injects AWS_ROLE_ARN and
   *  AWS_WEB_IDENTITY_TOKEN_FILE). Both or neither; without them the AWS SDK's default chain applies. */
  awsRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/, 'expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)').optional(),
  awsWebIdentityTokenFile: z.string().min(1).optional(),
  awsRoleSessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/, 'expected 2 to 64 of letters, digits and +=,.@_-').optional(),
  /** STS sessions (role, auth.jwt, web identity) are refreshed this long before they expire; below
   *  STS's shortest session (900 s), so every session is used for a while. */
  awsSessionRefreshMarginSeconds: z.coerce.number().int().min(1).max(899).default(300),
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
