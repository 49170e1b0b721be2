import { describe, expect, it } from 'vitest';
import { HerdlessError, Reasons, RETRY_CLASS_OF, retryClassOf, terminal, throttled, transient, type ErrorReason } from './errors.js';

describe('RETRY_CLASS_OF: one table from reason to retry class', () => {
  it('gives every failure reason a class, and none to reasons that are not failures', () => {
    const outcomes = [Reasons.SecretSynced, Reasons.Deleted, Reasons.DeadlineMissed, Reasons.SecretDeleted, Reasons.SecretMissing];
    const failures = Object.values(Reasons).filter((r) => !outcomes.includes(r as never));
    expect(Object.keys(RETRY_CLASS_OF).sort()).toEqual([...failures].sort());
    for (const r of [...outcomes, 'SomethingElse', undefined]) expect(retryClassOf(r)).toBeUndefined();
  });

  it.each([
    [Reasons.InvalidSecretKey, 'terminal'],
    [Reasons.SecretTooLarge, 'terminal'],
    [Reasons.InvalidStoreSpec, 'terminal'],
    [Reasons.InvalidRefreshInterval, 'terminal'],
    [Reasons.InvalidSpec, 'terminal'],
    [Reasons.ImmutableSecret, 'terminal'],
    [Reasons.TargetConflict, 'terminal'],
    [Reasons.TargetWriteConflict, 'transient'],
    [Reasons.TargetNotFound, 'transient'],
    [Reasons.ProviderError, 'transient'],
    [Reasons.ProviderUnavailable, 'transient'],
    [Reasons.ProviderThrottled, 'throttled'],
  ] as const)('decides %s: %s', (reason, retry) => {
    expect(retryClassOf(reason)).toBe(retry);
  });

  it('the helpers take the class from the table', () => {
    for (const reason of Object.keys(RETRY_CLASS_OF) as ErrorReason[]) {
      expect(new HerdlessError(reason, 'm').retry).toBe(RETRY_CLASS_OF[reason]);
    }
    expect(terminal(Reasons.InvalidSpec, 'm').retry).toBe('terminal');
    expect(transient(Reasons.TargetNotFound, 'm').retry).toBe('transient');
  });

  it('only the store\'s or the limiter\'s "not now" may be throttled', () => {
    expect(throttled(Reasons.ProviderUnavailable, 'breaker open', 500)).toMatchObject({ retry: 'throttled', retryAfterMs: 500 });
    expect(throttled(Reasons.ProviderThrottled, 'deferred')).toMatchObject({ retry: 'throttled' });
    expect(new HerdlessError(Reasons.InvalidSpec, 'm', { throttled: true }).retry).toBe('terminal');
  });
});
