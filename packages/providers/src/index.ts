// @herdless/providers: the Provider contract, its implementations and the call path around them.
export * from './provider.js';
export * from './provider-cache.js';
export * from './create-provider.js';
export * from './json-value.js';
export * from './secret-keys.js';
export * from './aws/classify-aws-error.js';
export { AWS_SDK_MAX_ATTEMPTS, AWS_CONNECTION_TIMEOUT_MS, AWS_REQUEST_TIMEOUT_MS } from './aws/aws-client-config.js';
export * from './aws-secrets-manager/aws-secrets-manager.js';
export * from './aws-parameter-store/aws-parameter-store.js';
export * from './call-path/limiter-math.js';
export { RedisRateLimiter, type LimiterDecision, type BucketLimits, type RateLimiterOptions } from './call-path/rate-limiter.js';
export * from './call-path/budgets.js';
export * from './call-path/call-path.js';
export { callLaneOf, currentCallLane, withCallLane, type CallLane } from './call-path/call-lane.js';
export { ProviderBreaker, BREAKER_STATE_VALUE, type BreakerOptions, type BreakerState } from './call-path/circuit-breakers.js';
export { Coalescer } from './call-path/coalescer.js';
export { ReadBatcher, shouldBatch, type BatchingMode } from './call-path/read-batcher.js';
export { callPathMetrics, type CallPathMetrics } from './call-path/call-path-metrics.js';
