// Which quota bucket a store operation is charged to, and how much of it Herdless may spend.
// AWS throttles per account, Region and operation, except Parameter Store, whose standard
// throughput (40/s) is shared by all its read operations: one bucket for them all.

/** Parameter Store's reads share one quota: GetParameter, GetParameters, GetParametersByPath. */
export const PARAMETER_STORE_READ_BUCKET = 'ParameterStoreRead';

/** The limiter bucket of `operation` for a provider type ("aws-sm", "aws-ps", …). */
export function quotaBucketOf(providerType: string, operation: string): string {
  if (providerType === 'aws-ps' && /^(GetParameter|GetParameters|GetParametersByPath|DescribeParameters)$/.test(operation)) {
    return PARAMETER_STORE_READ_BUCKET;
  }
  return operation;
}

/** The provider type is the first field of a provider key ("aws-sm|us-east-1|…"). */
export function providerTypeOfKey(providerKey: string): string {
  return providerKey.split('|')[0] ?? providerKey;
}

/**
 * AWS's default quotas (per account and Region) and the share Herdless spends by default:
 * half, because the quota is shared with every other client of the account. Secrets Manager
 * quotas page: GetSecretValue 10,000/s, BatchGetSecretValue 100/s, ListSecrets 100/s;
 * Systems Manager: 40/s standard throughput for parameter reads.
 */
export const AWS_QUOTAS_RPS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'aws-sm': { GetSecretValue: 10_000, BatchGetSecretValue: 100, ListSecrets: 100, DescribeSecret: 40_000 },
  'aws-ps': { [PARAMETER_STORE_READ_BUCKET]: 40 },
};

export const DEFAULT_QUOTA_SHARE = 0.5;

/** Budget (rps) per provider type and bucket; per provider key overrides win. */
export interface BudgetTable {
  /** e.g. { 'aws-sm': { GetSecretValue: 5000, BatchGetSecretValue: 50 } } */
  byType?: Record<string, Record<string, number>>;
  /** e.g. { 'aws-sm|us-east-1|ambient|': { GetSecretValue: 100 } } (a store's annotation). */
  byProviderKey?: Record<string, Record<string, number>>;
  /** Share of AWS's quota when neither table names the bucket (default 0.5). */
  defaultShare?: number;
  /** Budget for buckets no table knows (default 10 rps). */
  fallbackRps?: number;
}

/** The budget in rps for a provider key's bucket. */
export function budgetRpsOf(table: BudgetTable, providerKey: string, bucket: string): number {
  const type = providerTypeOfKey(providerKey);
  const explicit = table.byProviderKey?.[providerKey]?.[bucket] ?? table.byType?.[type]?.[bucket];
  if (explicit !== undefined) return explicit;
  const quota = AWS_QUOTAS_RPS[type]?.[bucket];
  if (quota !== undefined) return Math.max(1, Math.floor(quota * (table.defaultShare ?? DEFAULT_QUOTA_SHARE)));
  return table.fallbackRps ?? 10;
}
