import { describe, expect, it } from 'vitest';
import { AwsEndpointFaults } from './faults.js';
import { OperationQuotas } from './operation-quotas.js';

describe('AwsEndpointFaults', () => {
  it('answers a share of requests 500 InternalServiceError, only for the operations in scope', async () => {
    const rolls = [0.1, 0.9];
    const faults = new AwsEndpointFaults({ random: () => rolls.shift() ?? 0.9 });
    faults.update({ errorRate: 0.5, operations: ['GetSecretValue'] });
    expect(faults.decide('GetSecretValue')).toMatchObject({ type: 'InternalServiceError', status: 500 });
    expect(faults.decide('GetSecretValue')).toBeUndefined();
    expect(faults.decide('ListSecrets')).toBeUndefined();
    expect(faults.state().injected.errors).toBe(1);
  });

  it('answers 503 during an outage window and serves again after it', () => {
    let now = 1_000;
    const faults = new AwsEndpointFaults({ now: () => now });
    faults.startOutage(500);
    expect(faults.decide('BatchGetSecretValue')).toMatchObject({ type: 'ServiceUnavailable', status: 503 });
    now = 1_499;
    expect(faults.decide('GetSecretValue')).toBeDefined();
    now = 1_500;
    expect(faults.decide('GetSecretValue')).toBeUndefined();
  });

  it('adds latency before answering', async () => {
    const faults = new AwsEndpointFaults();
    faults.update({ latencyMs: 80 });
    const started = Date.now();
    await faults.hold('DescribeSecret');
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
  });

  it('holds the requests that arrive during a slow window, and only those', () => {
    let now = 1_000;
    const faults = new AwsEndpointFaults({ now: () => now });
    faults.update({ operations: ['GetSecretValue'] });
    faults.startSlowReplies(15_000, 500);
    expect(faults.delayMs('GetSecretValue')).toBe(15_000);
    expect(faults.delayMs('ListSecrets')).toBe(0);
    now = 1_499;
    expect(faults.delayMs('GetSecretValue')).toBe(15_000);
    now = 1_500;
    expect(faults.delayMs('GetSecretValue')).toBe(0);
    // A held request is answered normally afterwards: the hold is not an error.
    expect(faults.decide('GetSecretValue')).toBeUndefined();
    expect(() => faults.update({ slowReplies: { holdMs: 0, forMs: 10 } })).toThrow(/slowReplies/);
    expect(faults.update({ slowReplies: null }).settings.slowReplies).toBeNull();
  });

  it('lowers a quota for a while and restores the configured one', async () => {
    const quotas = new OperationQuotas({ GetSecretValue: { rps: 100, burst: 100 } });
    const faults = new AwsEndpointFaults({ quotas });
    faults.lowerQuota('GetSecretValue', 2, { forMs: 50 });
    faults.lowerQuota('GetSecretValue', 1);
    expect(quotas.all().GetSecretValue).toEqual({ rps: 1, burst: 1 });
    expect(faults.state().lowered.GetSecretValue?.restoresTo).toEqual({ rps: 100, burst: 100 });
    faults.reset();
    expect(quotas.all().GetSecretValue).toEqual({ rps: 100, burst: 100 });
    faults.update({ lowerQuota: { operation: 'ListSecrets', rps: 3, forMs: 30 } });
    expect(quotas.all().ListSecrets.rps).toBe(3);
    await new Promise((r) => setTimeout(r, 60));
    expect(quotas.all().ListSecrets.rps).toBe(100);
  });

  it('serves again right after a lowered quota is restored, whatever the fault left in its bucket', () => {
    const now = 5_000;
    const quotas = new OperationQuotas({ GetSecretValue: { rps: 100, burst: 100 } }, () => now);
    const faults = new AwsEndpointFaults({ quotas, now: () => now });
    faults.lowerQuota('GetSecretValue', 1, { burst: 1 });
    expect(quotas.admit('GetSecretValue')).toBe(true);
    expect(quotas.admit('GetSecretValue')).toBe(false);
    faults.reset();
    expect(quotas.admit('GetSecretValue')).toBe(true);
  });

  it('rejects bad settings with InvalidParameterException naming the field', () => {
    const faults = new AwsEndpointFaults();
    expect(() => faults.update({ errorRate: 3 })).toThrow(/errorRate/);
    expect(() => faults.update({ operations: ['Nope'] })).toThrow(/operations/);
    expect(() => faults.update({ colour: 'red' })).toThrow(/unknown fault setting colour/);
    expect(faults.state().settings.errorRate).toBe(0);
  });
});
