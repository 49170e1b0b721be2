import { describe, expect, it } from 'vitest';
import { operationFromTarget, quotaNameOf, resolveQuotaName } from './operations.js';

describe('operations', () => {
  it('reads the operation from X-Amz-Target, per service prefix', () => {
    expect(operationFromTarget('secretsmanager.GetSecretValue')).toBe('GetSecretValue');
    expect(operationFromTarget('AmazonSSM.GetParameters')).toBe('GetParameters');
    expect(operationFromTarget('AmazonSSM.GetSecretValue')).toBeUndefined();
    expect(operationFromTarget('secretsmanager.GetParameter')).toBeUndefined();
    expect(operationFromTarget('AmazonSSM.DeleteParameter')).toBeUndefined();
    expect(operationFromTarget('')).toBeUndefined();
  });

  it('maps operations to the bucket they spend', () => {
    expect(quotaNameOf('GetParameter')).toBe('ParameterStoreThroughput');
    expect(quotaNameOf('GetParametersByPath')).toBe('ParameterStoreThroughput');
    expect(quotaNameOf('PutParameter')).toBe('PutParameter');
    expect(quotaNameOf('ListSecrets')).toBe('ListSecrets');
    expect(resolveQuotaName('GetParameters')).toBe('ParameterStoreThroughput');
    expect(resolveQuotaName('ParameterStoreThroughput')).toBe('ParameterStoreThroughput');
    expect(resolveQuotaName('Bogus')).toBeUndefined();
  });
});
