// Which lane a provider call belongs to: the worker runs each sync inside withCallLane, and the
// call path tells the rate limiter (limiter-math.ts admit). A new or changed spec's calls are
// urgent: denied, they queue in their own line instead of behind deferred catch-up and refresh
// calls. A routine refresh's calls are held to the routine share of the budget, as the planner
// plans them. AsyncLocalStorage carries the lane through the provider code (and into a batch or
// coalesced call the sync starts), with the sync's namespace: each tenant's urgent calls wait
// in a line of their own, so one tenant's thousands do not queue another's one behind them.
import { AsyncLocalStorage } from 'node:async_hooks';
import { isSpecLane, type SyncReason } from '@herdless/core';

export type CallLane = 'urgent' | 'routine' | 'other';

const lanes = new AsyncLocalStorage<{ lane: CallLane; tenant: string | undefined }>();

/** The lane of a sync job's calls: new and changed specs are urgent, planned refreshes routine. */
export function callLaneOf(reason: SyncReason): CallLane {
  if (isSpecLane(reason)) return 'urgent';
  return reason === 'refresh' ? 'routine' : 'other';
}

/** Runs one sync; its provider calls are in `lane`, on behalf of `tenant` (the ExternalSecret's namespace). */
export function withCallLane<T>(lane: CallLane, run: () => Promise<T>, tenant?: string): Promise<T> {
  return lanes.run({ lane, tenant }, run);
}

/** The lane of the calls made here ('other' outside a sync). */
export function currentCallLane(): CallLane {
  return lanes.getStore()?.lane ?? 'other';
}

/** The namespace the calls made here are for (undefined outside a sync). */
export function currentCallTenant(): string | undefined {
  return lanes.getStore()?.tenant;
}
