// The Secrets Manager operations our endpoint speaks, and AWS's default request quotas for
// them (per account and Region; Secrets Manager quotas page): GetSecretValue 10,000/s,
// DescribeSecret 40,000/s, BatchGetSecretValue and ListSecrets 100/s, PutSecretValue and
// CreateSecret 50/s. AWS publishes rates, not bursts: our default burst is one second's worth.
// Parameter Store's operations and quotas are in ssm-operations.ts, STS's in sts-operations.ts;
// the endpoint-wide names (EndpointOperation, QuotaName) below cover all three services.
import { SSM_DEFAULT_QUOTAS, SSM_OPERATIONS, SSM_QUOTA_NAMES, isSsmOperation, ssmQuotaOf, type SsmOperation, type SsmQuotaName } from './ssm-operations.js';
import { STS_DEFAULT_QUOTAS, STS_OPERATIONS, isStsOperation, type StsOperation } from './sts-operations.js';

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

/** Every operation the endpoint answers, Secrets Manager's and Parameter Store's. */
export type EndpointOperation = SecretsManagerOperation | SsmOperation | StsOperation;

export const ENDPOINT_OPERATIONS: readonly EndpointOperation[] = [...OPERATIONS, ...SSM_OPERATIONS, ...STS_OPERATIONS];

export function isEndpointOperation(name: string): name is EndpointOperation {
  return isOperation(name) || isSsmOperation(name) || isStsOperation(name);
}

/**
 * A token bucket of the endpoint: one per Secrets Manager operation (named after it), and
 * Parameter Store's (ParameterStoreThroughput shared by its three reads, PutParameter,
 * DescribeParameters), one per STS operation.
 */
export type QuotaName = SecretsManagerOperation | SsmQuotaName | StsOperation;

export const QUOTA_NAMES: readonly QuotaName[] = [...OPERATIONS, ...SSM_QUOTA_NAMES, ...STS_OPERATIONS];

export const ALL_DEFAULT_QUOTAS: Readonly<Record<QuotaName, Quota>> = { ...DEFAULT_QUOTAS, ...SSM_DEFAULT_QUOTAS, ...STS_DEFAULT_QUOTAS };

export function isQuotaName(name: string): name is QuotaName {
  return (QUOTA_NAMES as readonly string[]).includes(name);
}

/** The bucket a request of `operation` spends a token of. */
export function quotaNameOf(operation: EndpointOperation): QuotaName {
  return isSsmOperation(operation) ? ssmQuotaOf(operation) : operation;
}

/**
 * A quota name, or an operation standing for the bucket it spends from (an SSM read names the
 * shared ParameterStoreThroughput); undefined when it is neither.
 */
export function resolveQuotaName(nameOrOperation: string): QuotaName | undefined {
  if (isQuotaName(nameOrOperation)) return nameOrOperation;
  if (isEndpointOperation(nameOrOperation)) return quotaNameOf(nameOrOperation);
  return undefined;
}

const TARGET_PREFIXES: ReadonlyArray<{ prefix: string; accepts: (op: string) => boolean }> = [
  { prefix: 'secretsmanager.', accepts: isOperation },
  { prefix: 'AmazonSSM.', accepts: isSsmOperation },
];

/** The operations of the JSON 1.1 protocol, named by an X-Amz-Target header. */
export type JsonOperation = SecretsManagerOperation | SsmOperation;

/** The operation an X-Amz-Target header names (`secretsmanager.X`, `AmazonSSM.X`), if we speak it. */
export function operationFromTarget(target: string): JsonOperation | undefined {
  for (const { prefix, accepts } of TARGET_PREFIXES) {
    if (target.startsWith(prefix)) {
      const op = target.slice(prefix.length);
      return accepts(op) ? (op as JsonOperation) : undefined;
    }
  }
  return undefined;
}
