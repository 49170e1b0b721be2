import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Reasons } from '@herdless/core';
import { toHerdlessError } from './sync.js';

describe('errors from outside the provider', () => {
  it("a 429 from the API server re-delays the job: throttled, no attempt burned, no status write", () => {
    const e = toHerdlessError(new ApiException(429, 'Too Many Requests', {}, {}));
    expect(e.reason).toBe(Reasons.ApiServerThrottled);
    expect(e.retry).toBe('throttled');
    expect(e.retryAfterMs).toBeGreaterThan(0);
  });

  it('a 403 is terminal AccessDenied naming the RBAC, a 500 a transient failure', () => {
    expect(toHerdlessError(new ApiException(403, 'Forbidden', {}, {}))).toMatchObject({ reason: Reasons.AccessDenied, retry: 'terminal' });
    expect(toHerdlessError(new ApiException(500, 'boom', {}, {}))).toMatchObject({ reason: Reasons.SecretSyncedError, retry: 'transient' });
  });
});
