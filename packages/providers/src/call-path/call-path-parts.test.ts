import { Reasons, storeShareRpsOf, terminal, transient } from '@herdless/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseBudgets } from '@herdless/core';
import { limiterBudgetRpsOf, quotaBucketOf } from './budgets.js';
import { ProviderBreaker } from './circuit-breakers.js';
import { Coalescer } from './coalescer.js';
import { shouldBatch } from './read-batcher.js';
import type { Redis } from 'ioredis';
import type { ProviderWithRawReader, RawReader, SecretBytes } from '../provider.js';
import { CallPath } from './call-path.js';
import { providerOverRawReader } from './raw-reader.fixture.js';

describe('shouldBatch (spend the binding quota)', () => {
  it('never batches with AWS default budgets (GetSecretValue 5,000/s vs BatchGetSecretValue 50/s)', () => {
    for (let n = 1; n <= 20; n++) expect(shouldBatch(n, 20, 5_000, 50, 'auto')).toBe(false);
  });
  it('batches when the single-read budget is the scarcer one', () => {
    expect(shouldBatch(20, 20, 100, 50, 'auto')).toBe(true);
    expect(shouldBatch(2, 20, 100, 50, 'auto')).toBe(false);
    expect(shouldBatch(3, 20, 100, 50, 'auto')).toBe(true);
  });
  it('"always" batches two or more, "never" none', () => {
    expect(shouldBatch(1, 20, 1, 1_000, 'always')).toBe(false);
    expect(shouldBatch(2, 20, 1_000_000, 1, 'always')).toBe(true);
    expect(shouldBatch(20, 20, 1, 1_000, 'never')).toBe(false);
  });
});

describe('budgets', () => {
  it("follow the operator's budget table; a store's annotation only lowers that store's own share", () => {
    const defaults = { byType: parseBudgets('') };
    expect(limiterBudgetRpsOf(defaults, 'aws-sm|us-east-1|default|', 'GetSecretValue')).toBe(500);
    expect(limiterBudgetRpsOf(defaults, 'aws-sm|us-east-1|default|', 'BatchGetSecretValue')).toBe(20);
    expect(limiterBudgetRpsOf(defaults, 'aws-ps|us-east-1|default|', quotaBucketOf('aws-ps', 'GetParameters'))).toBe(10);
    const table = parseBudgets('');
    // Lower: the primary bucket takes the annotation, the others scale alike (500 → 50 is a tenth).
    expect(storeShareRpsOf(table, 'aws-sm', 'GetSecretValue', 50)).toBe(50);
    expect(storeShareRpsOf(table, 'aws-sm', 'BatchGetSecretValue', 50)).toBe(2);
    // Never higher than the key's budget: no cap at all.
    expect(storeShareRpsOf(table, 'aws-sm', 'GetSecretValue', 1e9)).toBeUndefined();
    expect(storeShareRpsOf(table, 'aws-sm', 'GetSecretValue', undefined)).toBeUndefined();
  });
  it('Parameter Store reads share one bucket', () => {
    expect(quotaBucketOf('aws-ps', 'GetParameter')).toBe(quotaBucketOf('aws-ps', 'GetParametersByPath'));
    expect(quotaBucketOf('aws-sm', 'GetSecretValue')).toBe('GetSecretValue');
  });
});

describe('Coalescer', () => {
  it('identical calls in flight or within the window share one call; failures are not kept', async () => {
    let nowMs = 0;
    const c = new Coalescer<number>(50, () => nowMs);
    let calls = 0;
    const slow = () => Promise.resolve().then(() => ++calls);
    const [a, b] = await Promise.all([c.run('k', slow), c.run('k', slow)]);
    expect([a, b, calls]).toEqual([1, 1, 1]);
    nowMs = 49;
    expect(await c.run('k', slow)).toBe(1); // still inside the 50 ms window
    nowMs = 60;
    expect(await c.run('k', slow)).toBe(2);
    await expect(c.run('bad', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await c.run('bad', async () => 7)).toBe(7);
  });

  it('the window counts from when the value arrived, so a read in flight longer than the window (a batch) is still shared after it', async () => {
    let nowMs = 0;
    const c = new Coalescer<string>(1_000, () => nowMs);
    let calls = 0;
    let arrive: (v: string) => void = () => undefined;
    const batched = () => {
      calls++;
      return new Promise<string>((r) => (arrive = r));
    };
    const first = c.run('k', batched);
    nowMs = 1_500; // the batch waited longer than the window before it was sent
    const joined = c.run('k', batched);
    arrive('v1');
    expect([await first, await joined, calls]).toEqual(['v1', 'v1', 1]);
    nowMs = 2_400; // 900 ms after the value arrived: shared
    expect(await c.run('k', batched)).toBe('v1');
    expect([calls, c.joined]).toEqual([1, 2]);
    nowMs = 2_500; // the window after its arrival has passed: read again
    const again = c.run('k', batched);
    arrive('v2');
    expect([await again, calls]).toEqual(['v2', 2]);
  });
});

describe('ProviderBreaker', () => {
  afterEach(() => vi.useRealTimers());

  it('opens on transient failures, then rejects with a throttled error carrying the reset time', async () => {
    const b = new ProviderBreaker('aws-sm|r|p|', { volumeThreshold: 3, resetTimeoutMs: 5_000 });
    let sent = 0;
    const failing = async () => {
      sent++;
      throw transient(Reasons.ProviderUnavailable, 'HTTP 500');
    };
    for (let i = 0; i < 3; i++) await expect(b.fire('GetSecretValue', failing)).rejects.toMatchObject({ retry: 'transient' });
    expect(b.state).toBe('open');
    const err = await b.fire('GetSecretValue', failing).catch((e: unknown) => e);
    expect(err).toMatchObject({ retry: 'throttled', reason: Reasons.ProviderUnavailable });
    expect((err as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(4_000);
    expect((err as Error).message).toContain('circuit breaker');
    expect(() => b.assertCallable('GetSecretValue')).toThrow(/open/);
    expect(sent).toBe(3);
    b.shutdown();
  });

  it('terminal and throttled errors do not open it', async () => {
    const b = new ProviderBreaker('aws-sm|r|p|', { volumeThreshold: 2 });
    for (let i = 0; i < 10; i++) {
      await expect(b.fire('GetSecretValue', async () => Promise.reject(terminal(Reasons.RemoteKeyNotFound, 'nf')))).rejects.toMatchObject({ retry: 'terminal' });
    }
    expect(b.state).toBe('closed');
    b.shutdown();
  });

  it('half-opens after the reset time with a single probe, and closes on its success', async () => {
    // opossum's reset timer on a fake clock: half-open exactly when the reset time has passed.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const b = new ProviderBreaker('aws-sm|r|p|', { volumeThreshold: 1, resetTimeoutMs: 50 });
    await expect(b.fire('op', async () => Promise.reject(transient(Reasons.ProviderUnavailable, 'down')))).rejects.toBeDefined();
    expect(b.state).toBe('open');
    vi.advanceTimersByTime(49);
    expect(b.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(b.state).toBe('half-open');
    let release!: () => void;
    const probe = b.fire('op', () => new Promise<string>((r) => (release = () => r('ok'))));
    // A second caller during the probe is told to come back, not sent.
    await expect(b.fire('op', async () => 'second')).rejects.toMatchObject({ retry: 'throttled' });
    release();
    expect(await probe).toBe('ok');
    expect(b.state).toBe('closed');
    b.shutdown();
  });
});

describe('CallPath batch window', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A provider whose reads of distinct keys can be batched; counts the batch calls it gets. */
  function batchingProvider(batches: string[][]): ProviderWithRawReader {
    const raw: RawReader = {
      readOperation: 'GetSecretValue',
      batchOperation: 'BatchGetSecretValue',
      maxBatchKeys: 20,
      resolve: (ref) => ({ key: ref.key, version: ref.version }),
      readRaw: () => Promise.reject(new Error('a single read where a batch was expected')),
      readRawBatch: async (keys) => {
        batches.push([...keys]);
        return new Map(keys.map((k) => [k, new TextEncoder().encode(`v-${k}`)]));
      },
      project: (v: SecretBytes) => v,
      projectMap: (v: SecretBytes) => ({ v }),
    };
    return providerOverRawReader('aws-sm:000000000000:eu-west-1', 'static:a', raw);
  }

  it('a partial batch goes when the batch window ends, not when the (longer) coalescing window does', async () => {
    vi.useFakeTimers();
    const batches: string[][] = [];
    const path = new CallPath({ redis: { defineCommand: () => undefined } as unknown as Redis, coalesceWindowMs: 60_000, batchWindowMs: 100, batching: 'always' });
    try {
      const p = path.wrap(batchingProvider(batches));
      const reads = Promise.all(['a', 'b', 'c'].map((key) => p.getSecret({ key })));
      await vi.advanceTimersByTimeAsync(99);
      expect(batches).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(batches).toEqual([['a', 'b', 'c']]);
      expect((await reads).map((v) => Buffer.from(v).toString())).toEqual(['v-a', 'v-b', 'v-c']);
      // Unset, the batch window is the coalescing window, as before the flag.
      const sameWindow = new CallPath({ redis: { defineCommand: () => undefined } as unknown as Redis, coalesceWindowMs: 500, batching: 'always' });
      const q = sameWindow.wrap(batchingProvider(batches));
      const more = Promise.all(['d', 'e'].map((key) => q.getSecret({ key })));
      await vi.advanceTimersByTimeAsync(499);
      expect(batches).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(batches).toEqual([['a', 'b', 'c'], ['d', 'e']]);
      await more;
      sameWindow.close();
    } finally {
      path.close();
    }
  });
});
