// client-go's tryAcquireOrRenew decision, pure: given the Lease record as read, when this replica
// last saw it change, and the time now, what this replica writes (or nothing: someone else holds
// an unexpired Lease). The write is made with the read's resourceVersion, so of two replicas that
// read the same record at most one succeeds; a takeover bumps leaseTransitions (the epoch), so an
// epoch names one holder. Used by every Lease this process campaigns for (the leader Lease and
// the plan shards' Leases) and by the property test that models their optimistic concurrency.

export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  leaseTransitions: number;
  acquireTimeMs?: number;
}

export interface LeaseSpecUpdate {
  holderIdentity: string;
  leaseDurationSeconds: number;
  leaseTransitions: number;
  acquireTimeMs: number;
  renewTimeMs: number;
}

/**
 * What `identity` writes to take or renew the Lease, or undefined when another holder's Lease has
 * not expired: expiry is judged by `observedAtMs` (the local time the record last changed, never
 * the writer's clock) plus the record's duration.
 */
export function nextLeaseSpec(old: LeaseRecord, observedAtMs: number, nowMs: number, identity: string, leaseDurationSeconds: number): LeaseSpecUpdate | undefined {
  const holder = old.holderIdentity;
  if (holder !== identity && holder !== '' && observedAtMs + old.leaseDurationSeconds * 1000 > nowMs) return undefined;
  const takeover = holder !== identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    leaseTransitions: takeover ? old.leaseTransitions + 1 : old.leaseTransitions,
    acquireTimeMs: takeover || old.acquireTimeMs === undefined ? nowMs : old.acquireTimeMs,
    renewTimeMs: nowMs,
  };
}
