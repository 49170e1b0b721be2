import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { apiRateLimiter, ApiRateLimiter, configureApiRateLimit, MAX_RETRY_AFTER_MS, retryAfterMsOf } from './api-rate-limit.js';
import { apiClient, statusCodeOf, withPooledAgents } from './kube.js';

describe('ApiRateLimiter (GCRA)', () => {
  it('lets a burst through at once, then spaces requests at 1/qps', () => {
    let t = 0;
    const l = new ApiRateLimiter({ qps: 10, burst: 3 }, () => t);
    expect([l.reserve(), l.reserve(), l.reserve()]).toEqual([0, 0, 0]);
    expect(l.reserve()).toBe(100);
    expect(l.reserve()).toBe(200);
    t = 10_000; // idle: the burst is back
    expect([l.reserve(), l.reserve(), l.reserve(), l.reserve()]).toEqual([0, 0, 0, 100]);
  });

  it('reads Retry-After as seconds or a date, capped', () => {
    expect(retryAfterMsOf('2')).toBe(2000);
    expect(retryAfterMsOf('3600')).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMsOf(new Date(10_000).toUTCString(), () => 9_000)).toBe(1000);
    expect(retryAfterMsOf(undefined)).toBeUndefined();
    expect(retryAfterMsOf('soon')).toBeUndefined();
  });
});

describe("a 429 from the API server", () => {
  let server: Server | undefined;
  afterEach(async () => {
    configureApiRateLimit(undefined);
    const s = server;
    server = undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  async function serve(answers: Array<{ code: number; retryAfter?: string }>): Promise<{ kc: KubeConfig; seen: () => number }> {
    let seen = 0;
    const s = createServer((req, res) => {
      const a = answers[Math.min(seen++, answers.length - 1)]!;
      res.statusCode = a.code;
      if (a.retryAfter !== undefined) res.setHeader('retry-after', a.retryAfter);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(a.code === 200 ? { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } } : { kind: 'Status', code: a.code, message: 'slow down' }));
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    server = s;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return { kc: withPooledAgents(kc), seen: () => seen };
  }

  it('with Retry-After is waited out and the request sent again', async () => {
    const { kc, seen } = await serve([{ code: 429, retryAfter: '0' }, { code: 429, retryAfter: '0' }, { code: 200 }]);
    const ns = await apiClient(kc, CoreV1Api).readNamespace({ name: 'n' });
    expect(ns.metadata?.name).toBe('n');
    expect(seen()).toBe(3);
  });

  it('without Retry-After reaches the caller as a 429', async () => {
    const { kc, seen } = await serve([{ code: 429 }]);
    const e = await apiClient(kc, CoreV1Api).readNamespace({ name: 'n' }).catch((x: unknown) => x);
    expect(statusCodeOf(e)).toBe(429);
    expect(seen()).toBe(1);
  });

  it('goes through the configured limiter first', async () => {
    const { kc } = await serve([{ code: 200 }]);
    // A burst of two and then one request every 1,000 s: two calls spend the burst, so the
    // limiter's next request would wait nearly all of an interval.
    configureApiRateLimit({ qps: 0.001, burst: 2 });
    await Promise.all([apiClient(kc, CoreV1Api).readNamespace({ name: 'n' }), apiClient(kc, CoreV1Api).readNamespace({ name: 'n' })]);
    expect(apiRateLimiter()?.reserve()).toBeGreaterThan(900_000);
  });
});
