// Re-exports for the call-path tests (one import line, types included).
export { CallPath, ProviderCache, type CallPathOptions, type Provider } from '../src/index.js';
export type RemoteRefLike = { key: string; property?: string; version?: string };
