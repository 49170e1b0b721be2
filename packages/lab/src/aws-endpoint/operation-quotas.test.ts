import { describe, expect, it } from 'vitest';
import { OperationQuotas } from './operation-quotas.js';

describe('OperationQuotas', () => {
  it('GetParameter, GetParameters and GetParametersByPath spend one shared bucket', () => {
    const quotas = new OperationQuotas({ ParameterStoreThroughput: { rps: 1, burst: 3 } }, () => 0);
    expect([quotas.admit('GetParameter'), quotas.admit('GetParameters'), quotas.admit('GetParametersByPath')]).toEqual([true, true, true]);
    expect(quotas.admit('GetParameter')).toBe(false);
    expect(quotas.admit('GetParametersByPath')).toBe(false);
    // Parameter Store's writes and Secrets Manager keep their own buckets.
    expect(quotas.admit('PutParameter')).toBe(true);
    expect(quotas.admit('GetSecretValue')).toBe(true);
  });

  it("defaults to AWS's standard throughput of 40/s for the three reads", () => {
    const quotas = new OperationQuotas({}, () => 0);
    expect(quotas.all()).toMatchObject({
      ParameterStoreThroughput: { rps: 40, burst: 40 },
      PutParameter: { rps: 3, burst: 3 },
      GetSecretValue: { rps: 10_000, burst: 10_000 },
    });
    const admitted = Array.from({ length: 50 }, (_, i) => quotas.admit(i % 2 ? 'GetParameters' : 'GetParameter')).filter(Boolean).length;
    expect(admitted).toBe(40);
  });

  it('an SSM read operation names the shared bucket when setting it; unknown names are refused', () => {
    let now = 0;
    const quotas = new OperationQuotas({ GetParametersByPath: { rps: 2, burst: 2 } }, () => now);
    expect(quotas.all().ParameterStoreThroughput).toEqual({ rps: 2, burst: 2 });
    expect(quotas.set('GetParameter', 5)).toEqual({ rps: 5, burst: 5 });
    expect(quotas.all().ParameterStoreThroughput).toEqual({ rps: 5, burst: 5 });
    expect(() => quotas.set('Nope' as never, 1)).toThrow(RangeError);
    now = 1_000;
    expect(Array.from({ length: 6 }, () => quotas.admit('GetParameters')).filter(Boolean).length).toBe(5);
  });
});
