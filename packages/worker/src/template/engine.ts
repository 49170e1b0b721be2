// ESO's template engine v2 (compiled to WebAssembly from ESO v0.20.4, see
// packages/lab/toolchain/eso-template) behind a small pool of worker threads: a tenant's
// template runs off the event loop, with a time limit and a memory limit per call, so a hostile
// one costs its own sync a TemplateError and the worker keeps serving everyone else.
// The module is read and compiled once per process; a missing module stops the worker at start.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError, Reasons, terminal, type HerdlessError } from '@herdless/core';
import { withMemoryLimit } from './memory-limit.js';

export const ESO_TEMPLATE_VERSION = 'v0.20.4';

/** Where `scripts/setup.sh` caches the module; the worker's default --template-engine. */
export function defaultTemplateEnginePath(): string {
  return join(homedir(), '.cache', 'herdless', `eso-template-${ESO_TEMPLATE_VERSION}`, 'eso-template.wasm');
}

/** The ConfigError of a module file that cannot be read, naming the flag and how to get the file. */
export function unreadableEngine(path: string, cause: unknown): ConfigError {
  return new ConfigError(
    `--template-engine (HERDLESS_TEMPLATE_ENGINE): cannot read ESO's template engine at ${path} (${(cause as NodeJS.ErrnoException).code ?? String(cause)}); ` +
      'build it with scripts/setup.sh (it caches eso-template.wasm under ~/.cache/herdless) or point the flag at the file the image ships',
  );
}

export interface TemplateEngineOptions {
  /** The .wasm file. */
  path: string;
  /** A call running longer is ended (its thread replaced) and fails with TemplateError. */
  timeoutMs: number;
  /** The module's linear memory cap per thread; a call reaching it fails with TemplateError. */
  memoryLimitBytes: number;
  threads: number;
}

/** What the sync needs of an engine: the engine itself, or one started on first use (lazy-engine.ts). */
export interface TemplateRenderer {
  /** One request to the module (see main.go in the toolchain for the ops). */
  call(request: object): Promise<EngineReply>;
  close(): Promise<void>;
}

/** What a call gives back: ESO's error text, or the fields the op fills. Bytes as base64. */
export interface EngineReply {
  error?: string;
  type?: string;
  data?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  value?: string;
}

interface Pending {
  id: number;
  request: string;
  resolve: (reply: EngineReply) => void;
  reject: (error: HerdlessError) => void;
}

interface Slot {
  worker: Worker;
  /** Settles when the thread has its instance (or failed to make one). */
  ready: Promise<void>;
  isReady: boolean;
  busy?: { call: Pending; timer: NodeJS.Timeout };
}

const threadFile = new URL(import.meta.url.endsWith('.ts') ? './engine-thread.ts' : './engine-thread.js', import.meta.url);

export class TemplateEngine implements TemplateRenderer {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly module: WebAssembly.Module,
    private readonly opts: TemplateEngineOptions,
  ) {
    for (let i = 0; i < opts.threads; i++) this.slots.push(this.spawn());
  }

  /** Reads, caps and compiles the module once, and starts the threads. */
  static async load(opts: TemplateEngineOptions): Promise<TemplateEngine> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(opts.path);
    } catch (cause) {
      throw unreadableEngine(opts.path, cause);
    }
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(withMemoryLimit(bytes, opts.memoryLimitBytes) );
    } catch (cause) {
      throw new ConfigError(`--template-engine (HERDLESS_TEMPLATE_ENGINE): ${opts.path} is not a usable WebAssembly module: ${(cause as Error).message}`);
    }
    const engine = new TemplateEngine(module, opts);
    await Promise.all(engine.slots.map((slot) => slot.ready));
    return engine;
  }

  /** One request to the module (see main.go in the toolchain for the ops). */
  call(request: object): Promise<EngineReply> {
    if (this.closed) return Promise.reject(terminal(Reasons.TemplateError, 'the template engine is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, request: JSON.stringify(request), resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const call of this.queue.splice(0)) call.reject(terminal(Reasons.TemplateError, 'the template engine is closed'));
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private spawn(): Slot {
    const worker = new Worker(threadFile, { workerData: { module: this.module } });
    worker.unref();
    let markReady = (): void => undefined;
    let failReady = (_: unknown): void => undefined;
    const slot: Slot = {
      worker,
      isReady: false,
      ready: new Promise((resolve, reject) => {
        markReady = resolve;
        failReady = reject;
      }),
    };
    worker.on('message', (message: { ready?: true; id?: number; reply?: string; trap?: string }) => {
      if (message.ready) {
        slot.isReady = true;
        markReady();
        this.dispatch();
        return;
      }
      const busy = slot.busy;
      if (message.id === undefined || !busy || busy.call.id !== message.id) return;
      clearTimeout(busy.timer);
      slot.busy = undefined;
      if (message.reply !== undefined) busy.call.resolve(JSON.parse(message.reply) as EngineReply);
      // Go's runtime stops the same way whether memory.grow was refused for a large allocation
      // (memory still well under the cap) or another fatal error occurred; the first is the likely one.
      else busy.call.reject(terminal(Reasons.TemplateError, `template rendering was stopped: it needed more than the ${Math.round(this.opts.memoryLimitBytes / 2 ** 20)} MiB it may use (or the engine failed)`));
      this.dispatch();
    });
    worker.on('error', (error) => {
      failReady(error);
      this.replace(slot, 'template rendering stopped with an internal error of the engine');
    });
    return slot;
  }

  /** Ends a slot's thread (overrun or crash) and starts another in its place. */
  private replace(slot: Slot, message: string): void {
    const busy = slot.busy;
    slot.busy = undefined;
    if (busy) {
      clearTimeout(busy.timer);
      busy.call.reject(terminal(Reasons.TemplateError, message));
    }
    void slot.worker.terminate();
    const index = this.slots.indexOf(slot);
    if (index < 0 || this.closed) return;
    // A thread that never got its instance is not replaced: that would loop; load() reports it.
    if (!slot.isReady) {
      this.slots.splice(index, 1);
      if (this.slots.length === 0) for (const call of this.queue.splice(0)) call.reject(terminal(Reasons.TemplateError, message));
      return;
    }
    const fresh = this.spawn();
    this.slots[index] = fresh;
    fresh.ready.catch(() => undefined);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.isReady || slot.busy) continue;
      const call = this.queue.shift();
      if (!call) return;
      const timer = setTimeout(() => this.replace(slot, `template rendering took longer than ${this.opts.timeoutMs} ms and was stopped`), this.opts.timeoutMs);
      slot.busy = { call, timer };
      slot.worker.postMessage({ id: call.id, request: call.request, memoryLimitBytes: this.opts.memoryLimitBytes });
    }
  }
}
