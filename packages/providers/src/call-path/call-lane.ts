// Which lane a provider call belongs to: the worker runs each sync inside withCallLane, and the
// call path tells the rate limiter (limiter-math.ts admit). A new or changed spec's calls are
// urgent: denied, they queue in their own line instead of behind deferred catch-up and refresh
// calls. A routine refresh's calls are held to the routine share of the budget, as the planner
// plans them. AsyncLocalStorage carries the lane through the provider code (and into a batch or
// coalesced call the sync starts).
import { AsyncLocalStorage } from 'node:async_hooks';
import { isSpecLane, type SyncReason } from '@herdless/core';

export type CallLane = 'urgent' | 'routine' | 'other';

const lanes = new AsyncLocalStorage<CallLane>();

/** The lane of a sync job's calls: new and changed specs are urgent, planned refreshes routine. */
export function callLaneOf(reason: SyncReason): CallLane {
  if (isSpecLane(reason)) return 'urgent';
  return reason === 'refresh' ? 'routine' : 'other';
}

/** Runs one sync; its provider calls are in `lane`. */
export function withCallLane<T>(lane: CallLane, run: () => Promise<T>): Promise<T> {
  return lanes.run(lane, run);
}

/** The lane of the calls made here ('other' outside a sync). */
export function currentCallLane(): CallLane {
  return lanes.getStore() ?? 'other';
}
