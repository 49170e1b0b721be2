// The real External Secrets Operator as a lab contender: its cached build and its process.
export {
  ensureEsoBinary,
  esoBinary,
  esoCrdManifests,
  esoToolchainStamp,
  ESO_VERSION,
  ESO_MODULE,
  type EsoBinary,
  type EnsureEsoOptions,
  type EnsureEsoResult,
} from './eso-toolchain.js';
export { startEso, type EsoOptions, type EsoProcess } from './start-eso.js';
export { ensureEsoTemplateWasm, esoTemplateStamp, esoTemplateWasmPath } from './eso-template-wasm.js';
