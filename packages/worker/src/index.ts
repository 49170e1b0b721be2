// @herdless/worker: BullMQ workers that turn a sync job into a Secret. Never imports the scheduler.
export { runWorker, SYNC_START_LATENESS, WORKER_START_CPU, type RunningWorker } from './worker.js';
export { workerConfigSchema, type WorkerConfig } from './config.js';
export { syncExternalSecret, shouldSkip, toHerdlessError, type ProviderSource, type SyncDeps, type SyncOutcome } from './sync.js';
export { renderSecret, type RenderedSecret, type SecretData } from './render-secret.js';
export { applySecret, type ApplyResult, type ApplyOptions } from './apply-secret.js';
export { decideOwnership, desiredTarget, esoDataHash, planWrite, sameTarget, targetDrift, OWNER_LABEL, type OwnershipDecision, type WritePlan } from './target-secret.js';
export { markSynced, markFailed, StatusTargetGone } from './mark-status.js';
export { resolveStore, matchesSelector } from './resolve-store.js';
export { createWorkerCaches, trimManagedSecret, type WorkerCaches } from './worker-caches.js';
export { CredentialsCache } from './credentials-cache.js';
export { defaultTemplateEnginePath, TemplateEngine, type TemplateEngineOptions, type TemplateRenderer } from './template/engine.js';
export { checkTemplateEngineFile, LazyTemplateEngine } from './template/lazy-engine.js';
export { renderTemplate, shapeDataFrom, decodeValue, type TemplateSources } from './template/eso-ops.js';
