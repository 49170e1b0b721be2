// @herdless/core: the contracts every other package builds on. Libraries only; no process state.
export * from './duration.js';
export * from './resources.js';
export * from './crd.js';
export * from './job.js';
export * from './errors.js';
export * from './provider-key.js';
export * from './config.js';
export * from './logger.js';
export * from './kube.js';
export * from './api-rate-limit.js';
export * from './informer.js';
export * from './metrics.js';
export * from './metrics-text.js';
export * from './status.js';
export * from './budgets.js';
export * from './seeded-random.js';
