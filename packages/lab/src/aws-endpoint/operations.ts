// The Secrets Manager operations our endpoint speaks, and AWS's default request quotas for
// them (per account and Region; Secrets Manager quotas page): GetSecretValue 10,000/s,
// DescribeSecret 40,000/s, BatchGetSecretValue and ListSecrets 100/s, PutSecretValue and
// CreateSecret 50/s. AWS publishes rates, not bursts: our default burst is one second's worth.
export const OPERATIONS = [
  'GetSecretValue',
  'BatchGetSecretValue',
  'ListSecrets',
  'DescribeSecret',
  'CreateSecret',
  'PutSecretValue',
] as const;

export type SecretsManagerOperation = (typeof OPERATIONS)[number];

export interface Quota {
  /** Sustained requests per second. */
  rps: number;
  /** Requests allowed at once after an idle period (token bucket capacity). */
  burst: number;
}

export const DEFAULT_QUOTAS: Readonly<Record<SecretsManagerOperation, Quota>> = {
  GetSecretValue: { rps: 10_000, burst: 10_000 },
  DescribeSecret: { rps: 40_000, burst: 40_000 },
  BatchGetSecretValue: { rps: 100, burst: 100 },
  ListSecrets: { rps: 100, burst: 100 },
  PutSecretValue: { rps: 50, burst: 50 },
  CreateSecret: { rps: 50, burst: 50 },
};

export function isOperation(name: string): name is SecretsManagerOperation {
  return (OPERATIONS as readonly string[]).includes(name);
}
