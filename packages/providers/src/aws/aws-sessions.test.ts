import { terminal, throttled, Reasons } from '@herdless/core';
import { describe, expect, it } from 'vitest';
import { AwsSessionCache, type AwsSession } from './aws-sessions.js';

const MINUTE = 60_000;

/** A session issuer that counts its calls and resolves when told to. */
function issuer(lifeMs: number, now: () => number) {
  let calls = 0;
  const pending: Array<(s: AwsSession) => void> = [];
  return {
    get calls() {
      return calls;
    },
    issue: () => {
      calls++;
      const n = calls;
      return new Promise<AwsSession>((resolve) => pending.push(() => resolve({ credentials: { accessKeyId: `ASIA${n}`, secretAccessKey: 's', sessionToken: 't' }, expiresAtMs: now() + lifeMs })));
    },
    settleAll: () => {
      for (const settle of pending.splice(0)) settle(undefined as never);
    },
  };
}

describe('AwsSessionCache', () => {
  it('one refresh for all concurrent callers, reused until expiry minus the margin, then one more', async () => {
    let t = 0;
    const cache = new AwsSessionCache({ refreshMarginMs: 5 * MINUTE, now: () => t });
    const sts = issuer(15 * MINUTE, () => t);
    const first = Array.from({ length: 50 }, () => cache.get('k', sts.issue));
    sts.settleAll();
    expect(new Set((await Promise.all(first)).map((c) => c.accessKeyId))).toEqual(new Set(['ASIA1']));
    t = 10 * MINUTE - 1;
    expect((await cache.get('k', sts.issue)).accessKeyId).toBe('ASIA1');
    t = 10 * MINUTE;
    const second = Array.from({ length: 50 }, () => cache.get('k', sts.issue));
    sts.settleAll();
    expect(new Set((await Promise.all(second)).map((c) => c.accessKeyId))).toEqual(new Set(['ASIA2']));
    expect(sts.calls).toBe(2);
  });

  it('keeps sessions of different keys apart', async () => {
    const cache = new AwsSessionCache({ now: () => 0 });
    const a = issuer(15 * MINUTE, () => 0);
    const b = issuer(15 * MINUTE, () => 0);
    const pa = cache.get('a', a.issue);
    const pb = cache.get('b', b.issue);
    a.settleAll();
    b.settleAll();
    await Promise.all([pa, pb]);
    expect([a.calls, b.calls]).toEqual([1, 1]);
  });

  it('refreshes a session shorter than the margin at half its life, not on every call', async () => {
    let t = 0;
    const cache = new AwsSessionCache({ refreshMarginMs: 5 * MINUTE, now: () => t });
    const sts = issuer(4 * MINUTE, () => t);
    const p = cache.get('k', sts.issue);
    sts.settleAll();
    await p;
    t = 2 * MINUTE - 1;
    await cache.get('k', sts.issue);
    expect(sts.calls).toBe(1);
  });

  it('serves the old session while it lasts when a refresh is throttled; passes a terminal refusal on; retries after a failure', async () => {
    let t = 0;
    const cache = new AwsSessionCache({ refreshMarginMs: 5 * MINUTE, now: () => t });
    const sts = issuer(15 * MINUTE, () => t);
    const p = cache.get('k', sts.issue);
    sts.settleAll();
    await p;
    t = 11 * MINUTE;
    const slow = () => Promise.reject(throttled(Reasons.ProviderThrottled, 'deferred', 100));
    expect((await cache.get('k', slow)).accessKeyId).toBe('ASIA1');
    const refused = () => Promise.reject(terminal(Reasons.AccessDenied, 'AssumeRole of role "r" refused'));
    await expect(cache.get('k', refused)).rejects.toMatchObject({ reason: 'AccessDenied' });
    t = 15 * MINUTE;
    await expect(cache.get('k', slow)).rejects.toMatchObject({ retry: 'throttled' });
    const again = cache.get('k', sts.issue);
    sts.settleAll();
    expect((await again).accessKeyId).toBe('ASIA2');
  });
});
