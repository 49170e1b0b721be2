// ESO's template engine, started on the first call that needs it. Only templates, dataFrom
// entries and decoding strategies other than None go through the engine; a fleet of plain
// `data` entries never does, and its workers need not hold the module (93 MB of WebAssembly,
// about 100 MiB once compiled) or its threads (about 65 MiB each). At start the worker checks
// only that the file is there and is WebAssembly, so a wrong --template-engine still stops it at
// once; a module that then fails to compile fails each templated sync with TemplateError (the
// start is tried once, not once a sync) and says why in the log.
import { open } from 'node:fs/promises';
import { ConfigError, Reasons, terminal } from '@herdless/core';
import { TemplateEngine, unreadableEngine, type EngineReply, type TemplateEngineOptions, type TemplateRenderer } from './engine.js';

/** WebAssembly's magic number and version 1: the first 8 bytes of every module. */
const WASM_HEADER = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** Throws ConfigError naming the flag when `path` cannot be read or is not a WebAssembly module. */
export async function checkTemplateEngineFile(path: string): Promise<void> {
  let header: Buffer;
  try {
    const file = await open(path, 'r');
    try {
      header = Buffer.alloc(WASM_HEADER.length);
      const { bytesRead } = await file.read(header, 0, header.length, 0);
      header = header.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  } catch (cause) {
    throw unreadableEngine(path, cause);
  }
  if (!header.equals(WASM_HEADER)) throw new ConfigError(`--template-engine (HERDLESS_TEMPLATE_ENGINE): ${path} is not a WebAssembly module (its first bytes are not \\0asm, version 1)`);
}

export interface LazyTemplateEngineHooks {
  /** Once, when the engine has started (or failed to): how long it took, and the error. */
  onStart?: (ms: number, error?: Error) => void;
}

export class LazyTemplateEngine implements TemplateRenderer {
  private engine: Promise<TemplateEngine> | undefined;
  private closed = false;

  private constructor(
    private readonly opts: TemplateEngineOptions,
    private readonly hooks: LazyTemplateEngineHooks,
  ) {}

  /** Checks the module file (ConfigError when it is missing or not WebAssembly); starts nothing. */
  static async create(opts: TemplateEngineOptions, hooks: LazyTemplateEngineHooks = {}): Promise<LazyTemplateEngine> {
    await checkTemplateEngineFile(opts.path);
    return new LazyTemplateEngine(opts, hooks);
  }

  /** Whether the engine has been asked to start (its module compiled, its threads running or starting). */
  get started(): boolean {
    return this.engine !== undefined;
  }

  call(request: object): Promise<EngineReply> {
    if (this.closed) return Promise.reject(terminal(Reasons.TemplateError, 'the template engine is closed'));
    return this.start().then((engine) => engine.call(request));
  }

  /** Stops the engine, once it has started if it was starting; no call starts it after. */
  async close(): Promise<void> {
    this.closed = true;
    const engine = await this.engine?.catch(() => undefined);
    await engine?.close();
  }

  private start(): Promise<TemplateEngine> {
    if (this.engine) return this.engine;
    const startedAt = Date.now();
    this.engine = TemplateEngine.load(this.opts).then(
      (engine) => {
        this.hooks.onStart?.(Date.now() - startedAt);
        return engine;
      },
      (cause: unknown) => {
        const error = cause instanceof Error ? cause : new Error(String(cause));
        this.hooks.onStart?.(Date.now() - startedAt, error);
        throw terminal(Reasons.TemplateError, `ESO's template engine could not start: ${error.message}`);
      },
    );
    return this.engine;
  }
}
