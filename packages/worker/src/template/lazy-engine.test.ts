import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@herdless/core';
import { decodeValue } from './eso-ops.js';
import { LazyTemplateEngine } from './lazy-engine.js';
import { testEnginePath } from './test-engine.js';

const options = (path: string) => ({ path, timeoutMs: 10_000, memoryLimitBytes: 256 * 2 ** 20, threads: 1 });
const decode = (engine: LazyTemplateEngine, text: string) => decodeValue(engine, 'Base64', new Uint8Array(Buffer.from(Buffer.from(text).toString('base64'))), 0);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herdless-lazy-engine-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the template engine, started at its first call', () => {
  it('stops the worker at once when the file is missing or is not WebAssembly, naming the flag', async () => {
    await expect(LazyTemplateEngine.create(options(join(dir, 'absent.wasm')))).rejects.toThrow(ConfigError);
    await expect(LazyTemplateEngine.create(options(join(dir, 'absent.wasm')))).rejects.toThrow(/--template-engine.*ENOENT/);
    const text = join(dir, 'text.wasm');
    await writeFile(text, 'not a module at all');
    await expect(LazyTemplateEngine.create(options(text))).rejects.toThrow(/--template-engine.*not a WebAssembly module/);
  });

  it('starts nothing until a call needs it, then starts once for concurrent first calls', async () => {
    const starts: Array<Error | undefined> = [];
    const engine = await LazyTemplateEngine.create(options(testEnginePath()), { onStart: (_, error) => void starts.push(error) });
    try {
      expect(engine.started).toBe(false);
      const values = await Promise.all([decode(engine, 'one'), decode(engine, 'two'), decode(engine, 'three')]);
      expect(values.map((v) => Buffer.from(v).toString())).toEqual(['one', 'two', 'three']);
      expect(engine.started).toBe(true);
      expect(starts).toEqual([undefined]);
    } finally {
      await engine.close();
    }
  });

  it('a module that passes the header check but does not compile fails each call with TemplateError, and is started once', async () => {
    const broken = join(dir, 'broken.wasm');
    await writeFile(broken, Buffer.concat([Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]), Buffer.from('garbage after the header')]));
    const starts: Array<Error | undefined> = [];
    const engine = await LazyTemplateEngine.create(options(broken), { onStart: (_, error) => void starts.push(error) });
    try {
      for (let i = 0; i < 2; i++) await expect(decode(engine, 'x')).rejects.toMatchObject({ reason: 'TemplateError', retry: 'terminal', message: expect.stringContaining('could not start') });
      expect(starts).toHaveLength(1);
      expect(starts[0]).toBeInstanceOf(Error);
    } finally {
      await engine.close();
    }
  });

  it('closed before any call, it never starts, and refuses calls after', async () => {
    const starts: unknown[] = [];
    const engine = await LazyTemplateEngine.create(options(testEnginePath()), { onStart: () => void starts.push(1) });
    await engine.close();
    await expect(decode(engine, 'x')).rejects.toMatchObject({ reason: 'TemplateError', message: expect.stringContaining('closed') });
    expect(engine.started).toBe(false);
    expect(starts).toEqual([]);
  });
});
