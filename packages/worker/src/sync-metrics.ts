// What one sync pass tells an operator: how long it took, how far past its refresh deadline it
// finished, how long a new spec waited to be Ready — and ESO's per-pass metrics (core's
// eso-metrics). Labels are results, reasons and lanes, never an object's name, never a value.
import { Histogram, isSpecLane, recordEsoSyncPass, type SyncJob } from '@herdless/core';

const SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

const syncDuration = new Histogram({
  name: 'herdless_sync_duration_seconds',
  help: 'Duration of a sync pass (read, fetch through the call path, render, Secret write, status write), by result.',
  labelNames: ['result'],
  buckets: SECONDS_BUCKETS,
});

const refreshLag = new Histogram({
  name: 'herdless_refresh_lag_seconds',
  help:
    'How far past its refresh deadline (lastSync + refreshInterval) a sync pass with a deadline finished, 0 when on time, by the job\'s reason. ' +
    'Anything above 0: a secret was stale.',
  labelNames: ['reason'],
  buckets: [0, 1, 5, 15, 30, 60, 300, 900, 3600, 21600],
});

const specToReady = new Histogram({
  name: 'herdless_spec_to_ready_seconds',
  help:
    'For a new ExternalSecret, time from its creation to the pass that made it Ready; for a changed spec, from the planner\'s decision to Ready. By reason (new, changed).',
  labelNames: ['reason'],
  buckets: SECONDS_BUCKETS,
});

/** Results after which the ExternalSecret is Ready with the current spec. */
const READY_RESULTS = new Set(['created', 'updated', 'unchanged', 'skipped', 'missing', 'deleted', 'retained']);

export interface SyncPass {
  job: SyncJob;
  /** The pass's result (SyncOutcome's), 'throttled' when the call path deferred it, 'error' when it threw. */
  result: string;
  startedAtMs: number;
  endedAtMs: number;
  /** The ExternalSecret's creationTimestamp (epoch ms), when known. */
  createdAtMs?: number;
}

/** Records one pass that ran syncExternalSecret (not a job discarded before it). */
export function recordSyncPass(p: SyncPass): void {
  const { job } = p;
  syncDuration.observe({ result: p.result }, (p.endedAtMs - p.startedAtMs) / 1000);
  // ESO counts a reconcile that ends in an error as an error; a throttled pass is Herdless's
  // re-delay (no attempt burned, the condition untouched), not an error.
  recordEsoSyncPass(job.namespace, job.name, p.endedAtMs - p.startedAtMs, p.result === 'failed' || p.result === 'error');
  if (!READY_RESULTS.has(p.result)) return;
  if (job.deadline !== undefined) refreshLag.observe({ reason: job.reason }, Math.max(0, p.endedAtMs - job.deadline) / 1000);
  if (isSpecLane(job.reason) && job.reason !== 'drift') {
    const since = job.reason === 'new' && p.createdAtMs !== undefined ? p.createdAtMs : job.plannedAt;
    specToReady.observe({ reason: job.reason }, Math.max(0, p.endedAtMs - since) / 1000);
  }
}
