// The AWS Systems Manager Parameter Store operations our endpoint speaks (X-Amz-Target:
// AmazonSSM.<Operation>) and their quotas. Unlike Secrets Manager, Parameter Store throttles
// its reads together: the standard "Parameter Store throughput" is 40 transactions per second
// for the whole account and Region, shared by GetParameter, GetParameters and
// GetParametersByPath (Systems Manager endpoints and quotas; higher throughput, a paid account
// setting, raises it). That one bucket is the quota named ParameterStoreThroughput here.
// PutParameter is not covered by it: AWS does not publish its rate, AWS Support gives 3/s at
// standard throughput (10/s at higher), which is our default. DescribeParameters' and
// ListTagsForResource's rates are not published either; 10/s each is our guess, each in its own
// bucket (tagging calls are not Parameter Store throughput).
import type { Quota } from './operations.js';

export const SSM_OPERATIONS = ['GetParameter', 'GetParameters', 'GetParametersByPath', 'PutParameter', 'DescribeParameters', 'ListTagsForResource'] as const;

export type SsmOperation = (typeof SSM_OPERATIONS)[number];

/** The reads that share the account's Parameter Store throughput. */
export const PARAMETER_STORE_THROUGHPUT_OPERATIONS = ['GetParameter', 'GetParameters', 'GetParametersByPath'] as const satisfies readonly SsmOperation[];

export const SSM_QUOTA_NAMES = ['ParameterStoreThroughput', 'PutParameter', 'DescribeParameters', 'ListTagsForResource'] as const;

export type SsmQuotaName = (typeof SSM_QUOTA_NAMES)[number];

export const SSM_DEFAULT_QUOTAS: Readonly<Record<SsmQuotaName, Quota>> = {
  ParameterStoreThroughput: { rps: 40, burst: 40 },
  PutParameter: { rps: 3, burst: 3 },
  DescribeParameters: { rps: 10, burst: 10 },
  ListTagsForResource: { rps: 10, burst: 10 },
};

export function isSsmOperation(name: string): name is SsmOperation {
  return (SSM_OPERATIONS as readonly string[]).includes(name);
}

/** The bucket an SSM request spends a token of. */
export function ssmQuotaOf(operation: SsmOperation): SsmQuotaName {
  return (PARAMETER_STORE_THROUGHPUT_OPERATIONS as readonly string[]).includes(operation)
    ? 'ParameterStoreThroughput'
    : (operation as 'PutParameter' | 'DescribeParameters' | 'ListTagsForResource');
}
