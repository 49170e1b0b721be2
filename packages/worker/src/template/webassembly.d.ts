// The part of the WebAssembly JS API the template engine uses. TypeScript declares it only in
// lib.dom, which a Node package does not load; Node has the API (V8's).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, ModuleImports>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  type ModuleImports = Record<string, unknown>;
  function compile(bytes: Uint8Array): Promise<Module>;
}
