// Jaeger, the trace backend of the lab and the tests: its cached build, its process and its query API.
export { ensureJaegerBinary, jaegerBinary, jaegerToolchainStamp, JAEGER_VERSION, JAEGER_PACKAGE, type EnsureJaegerResult } from './jaeger-toolchain.js';
export { startJaeger, jaegerConfig, type JaegerOptions, type JaegerProcess } from './start-jaeger.js';
export { JaegerQuery, type StoredSpan, type StoredTrace } from './jaeger-query.js';
