import { describe, expect, it } from 'vitest';
import { countRequests, requestsPerSecond, type RequestRecord } from './request-log.js';

const rec = (atMs: number, operation: RequestRecord['operation'], outcome: RequestRecord['outcome'], secrets = 0): RequestRecord => ({
  atMs,
  operation,
  outcome,
  secrets,
  region: 'us-east-1',
});

describe('request log', () => {
  const records = [
    rec(1_000, 'GetSecretValue', 'ok', 1),
    rec(1_500, 'GetSecretValue', 'throttled'),
    rec(3_200, 'BatchGetSecretValue', 'ok', 20),
    rec(3_900, 'GetSecretValue', 'error'),
  ];

  it('counts by operation and outcome', () => {
    expect(countRequests(records)).toEqual({
      GetSecretValue: { ok: 1, throttled: 1, error: 1 },
      BatchGetSecretValue: { ok: 1, throttled: 0, error: 0 },
    });
  });

  it('buckets per second, with the empty seconds in between', () => {
    expect(requestsPerSecond(records)).toEqual([
      { second: 1, ok: 1, throttled: 1, error: 0, secrets: 1 },
      { second: 2, ok: 0, throttled: 0, error: 0, secrets: 0 },
      { second: 3, ok: 1, throttled: 0, error: 1, secrets: 20 },
    ]);
  });

  it('filters by operation before bucketing', () => {
    expect(requestsPerSecond(records, { operation: 'BatchGetSecretValue' })).toEqual([
      { second: 3, ok: 1, throttled: 0, error: 0, secrets: 20 },
    ]);
    expect(requestsPerSecond([], {})).toEqual([]);
  });

  it('filters by a set of operations, such as the Parameter Store reads that share one quota', () => {
    const ssm = [
      rec(5_100, 'GetParameter', 'ok', 1),
      rec(5_200, 'GetParameters', 'ok', 10),
      rec(5_300, 'GetParametersByPath', 'throttled'),
      rec(5_400, 'PutParameter', 'ok'),
    ];
    expect(requestsPerSecond([...records, ...ssm], { operations: ['GetParameter', 'GetParameters', 'GetParametersByPath'] })).toEqual([
      { second: 5, ok: 2, throttled: 1, error: 0, secrets: 11 },
    ]);
    expect(countRequests(ssm).PutParameter).toEqual({ ok: 1, throttled: 0, error: 0 });
  });
});
