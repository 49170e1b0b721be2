// Caps a WebAssembly module's own linear memory: rewrites the limits of its memory section
// (section 5) to carry a maximum. Go's wasip1 output declares a memory with no maximum, so a
// template that allocates without end would grow it to 4 GiB; with the cap, Go's allocator
// finds memory.grow refused and stops with "out of memory", a trap the host catches.

const MEMORY_SECTION = 5;
const PAGE_BYTES = 65_536;

function readLeb(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let p = at;
  for (;;) {
    const byte = bytes[p++] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: p };
    shift += 7;
  }
}

function leb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** The module's bytes with its (one) memory limited to `maxBytes`; throws when it has none. */
export function withMemoryLimit(wasm: Uint8Array, maxBytes: number): Uint8Array<ArrayBuffer> {
  let p = 8; // magic and version
  while (p < wasm.length) {
    const id = wasm[p] as number;
    const size = readLeb(wasm, p + 1);
    const bodyStart = size.next;
    const bodyEnd = bodyStart + size.value;
    if (id === MEMORY_SECTION) {
      const count = readLeb(wasm, bodyStart);
      if (count.value !== 1) throw new Error(`expected one memory in the module, found ${count.value}`);
      const flags = wasm[count.next] as number;
      if ((flags & ~1) !== 0) throw new Error(`unsupported memory flags ${flags} (shared or 64-bit memory)`);
      const min = readLeb(wasm, count.next + 1);
      const maxPages = Math.max(min.value, Math.floor(maxBytes / PAGE_BYTES));
      const body = [1, 0x01, ...leb(min.value), ...leb(maxPages)];
      const section = [MEMORY_SECTION, ...leb(body.length), ...body];
      const out = new Uint8Array(p + section.length + (wasm.length - bodyEnd));
      out.set(wasm.subarray(0, p), 0);
      out.set(section, p);
      out.set(wasm.subarray(bodyEnd), p + section.length);
      return out;
    }
    p = bodyEnd;
  }
  throw new Error('the module declares no memory section');
}

/** The initial size of the module's memory, in bytes (the floor of any limit). */
export function initialMemoryBytes(wasm: Uint8Array): number {
  let p = 8;
  while (p < wasm.length) {
    const id = wasm[p] as number;
    const size = readLeb(wasm, p + 1);
    if (id === MEMORY_SECTION) {
      const count = readLeb(wasm, size.next);
      return readLeb(wasm, count.next + 1).value * PAGE_BYTES;
    }
    p = size.next + size.value;
  }
  return 0;
}
