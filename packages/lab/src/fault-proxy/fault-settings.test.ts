import { describe, expect, it } from 'vitest';
import { decideFault, isWatchRequest, mergeFaultSettings, NO_FAULTS } from './fault-settings.js';

const seq = (...values: number[]) => () => values.shift() ?? 0.99;

describe('fault settings', () => {
  it('recognises watches by query and by the legacy /watch/ path', () => {
    expect(isWatchRequest('GET', new URL('https://x/api/v1/pods?watch=true'))).toBe(true);
    expect(isWatchRequest('GET', new URL('https://x/api/v1/pods?watch=1'))).toBe(true);
    expect(isWatchRequest('GET', new URL('https://x/api/v1/watch/pods'))).toBe(true);
    expect(isWatchRequest('GET', new URL('https://x/api/v1/pods'))).toBe(false);
    expect(isWatchRequest('POST', new URL('https://x/api/v1/pods?watch=true'))).toBe(false);
  });

  it('answers the next watches 410 and counts them down, before any random fault', () => {
    let settings = mergeFaultSettings({ ...NO_FAULTS }, { expireNextWatches: 1, errorRate: 1 });
    const first = decideFault(settings, { watch: true, path: '/a' });
    expect(first.decision).toEqual({ kind: 'expire', delayMs: 0, as: 'event' });
    settings = first.settings;
    expect(settings.expireNextWatches).toBe(0);
    expect(decideFault(settings, { watch: true, path: '/a' }).decision.kind).toBe('error');
    expect(decideFault(settings, { watch: false, path: '/a' }).decision.kind).toBe('error');
  });

  it('answers the next requests that are not watches 500, counting them down, in scope only', () => {
    let settings = mergeFaultSettings({ ...NO_FAULTS }, { failNextRequests: 2, pathIncludes: '/secrets' });
    expect(decideFault(settings, { watch: false, path: '/api/v1/pods' }).decision.kind).toBe('forward');
    expect(decideFault(settings, { watch: true, path: '/api/v1/secrets' }).decision.kind).toBe('forward');
    for (const left of [1, 0]) {
      const next = decideFault(settings, { watch: false, path: '/api/v1/secrets' });
      expect(next.decision.kind).toBe('error');
      settings = next.settings;
      expect(settings.failNextRequests).toBe(left);
    }
    expect(decideFault(settings, { watch: false, path: '/api/v1/secrets' }).decision.kind).toBe('forward');
    expect(() => mergeFaultSettings({ ...NO_FAULTS }, { failNextRequests: -1 })).toThrow(/failNextRequests/);
  });

  it('splits the roll between 500s and 429s and keeps out-of-scope requests untouched', () => {
    const settings = mergeFaultSettings({ ...NO_FAULTS }, { errorRate: 0.2, throttleRate: 0.3, retryAfterSeconds: 7, scope: 'non-watches', pathIncludes: '/secrets' });
    expect(decideFault(settings, { watch: false, path: '/api/v1/secrets' }, seq(0.1)).decision.kind).toBe('error');
    expect(decideFault(settings, { watch: false, path: '/api/v1/secrets' }, seq(0.4)).decision).toEqual({ kind: 'throttle', delayMs: 0, retryAfterSeconds: 7 });
    expect(decideFault(settings, { watch: false, path: '/api/v1/secrets' }, seq(0.6)).decision.kind).toBe('forward');
    expect(decideFault(settings, { watch: true, path: '/api/v1/secrets' }, seq(0.1)).decision.kind).toBe('forward');
    expect(decideFault(settings, { watch: false, path: '/api/v1/pods' }, seq(0.1)).decision.kind).toBe('forward');
  });

  it('adds latency with jitter to requests in scope', () => {
    const settings = mergeFaultSettings({ ...NO_FAULTS }, { latencyMs: 100, latencyJitterMs: 10 });
    expect(decideFault(settings, { watch: false, path: '/' }, seq(0.5)).decision).toEqual({ kind: 'forward', delayMs: 105 });
  });

  it('rejects bad settings naming the field, and leaves the old ones in force', () => {
    expect(() => mergeFaultSettings({ ...NO_FAULTS }, { errorRate: 1.5 })).toThrow(/errorRate/);
    expect(() => mergeFaultSettings({ ...NO_FAULTS }, { errorRate: 0.6, throttleRate: 0.6 })).toThrow(/at most 1/);
    expect(() => mergeFaultSettings({ ...NO_FAULTS }, { partition: 'sometimes' })).toThrow(/partition/);
    expect(() => mergeFaultSettings({ ...NO_FAULTS }, { bogus: 1 })).toThrow(/unknown fault setting bogus/);
  });
});
