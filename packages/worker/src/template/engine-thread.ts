// The body of one template thread: instantiates the compiled ESO engine (WASI, no files, no
// network, output to /dev/null) and answers one request at a time. Runs off the worker's event
// loop; the pool in engine.ts times each call and ends this thread when a call overruns.
// Only node: imports, so Node runs this file as is from src/ (type stripping) and from dist/.
import { openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { WASI } from 'node:wasi';

interface Exports {
  memory: WebAssembly.Memory;
  herdless_alloc(size: number): number;
  herdless_free(ptr: number): void;
  herdless_call(ptr: number, size: number): bigint;
}

const { module } = workerData as { module: WebAssembly.Module };
// Go's runtime writes panics and fatal errors to fd 2; they could quote a template's input.
const devNull = openSync('/dev/null', 'w');

function instantiate(): Exports {
  // os.Args[0] must exist: klog's init reads it.
  const wasi = new WASI({ version: 'preview1', args: ['eso-template'], env: {}, stdout: devNull, stderr: devNull, returnOnExit: true });
  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport as WebAssembly.ModuleImports });
  wasi.initialize(instance);
  return instance.exports as unknown as Exports;
}

let engine: Exports | undefined = instantiate();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

parentPort?.on('message', ({ id, request, memoryLimitBytes }: { id: number; request: string; memoryLimitBytes: number }) => {
  try {
    engine ??= instantiate();
    const body = encoder.encode(request);
    const ptr = engine.herdless_alloc(body.length);
    new Uint8Array(engine.memory.buffer, ptr, body.length).set(body);
    const result = engine.herdless_call(ptr, body.length);
    const at = Number(result >> 32n);
    const length = Number(result & 0xffff_ffffn);
    const reply = decoder.decode(new Uint8Array(engine.memory.buffer, at, length));
    engine.herdless_free(at);
    // Go never gives memory back: an instance a large render grew is replaced before the next call.
    if (engine.memory.buffer.byteLength > memoryLimitBytes / 2) engine = undefined;
    parentPort?.postMessage({ id, reply });
  } catch (error) {
    // A trap leaves Go's runtime in an unknown state: the next call gets a fresh instance.
    engine = undefined;
    parentPort?.postMessage({ id, trap: error instanceof Error ? error.message.slice(0, 200) : 'trap' });
  }
});
parentPort?.postMessage({ ready: true });
