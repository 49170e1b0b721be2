// The elector's watchdog against a Lease API that stalls: when no renewal succeeds within the
// renew deadline the term's work is stopped, and once the API answers again (nobody else took
// the Lease meanwhile) a new term starts. Before, the elector went on renewing a Lease whose
// work the watchdog had stopped: the replica held the Lease (a plan shard, in the lab's 100,000
// run) and nobody planned under it, for good. The real API server's Lease is covered by
// packages/scheduler/test/leader-failover.test.ts and the chaos tests.
import { describe, expect, it } from 'vitest';
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { createLogger } from '@herdless/core';
import { LeaderElector } from './leader.js';

/** One Lease in memory, with optimistic concurrency; while `stalled`, every call waits for `resume()`. */
class StallingLeases {
  private lease: V1Lease | undefined;
  private version = 0;
  private waiting: Array<() => void> = [];
  stalled = false;

  resume(): void {
    this.stalled = false;
    for (const w of this.waiting.splice(0)) w();
  }

  /** Every call is answered on a later turn of the event loop, as a socket's would be. */
  private async gate(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.stalled) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  readonly api = {
    readNamespacedLease: async (): Promise<V1Lease> => {
      await this.gate();
      if (!this.lease) throw Object.assign(new Error('not found'), { code: 404 });
      return structuredClone(this.lease);
    },
    createNamespacedLease: async ({ body }: { body: V1Lease }): Promise<V1Lease> => {
      await this.gate();
      if (this.lease) throw Object.assign(new Error('already exists'), { code: 409 });
      this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.version) } };
      return structuredClone(this.lease);
    },
    replaceNamespacedLease: async ({ body }: { body: V1Lease }): Promise<V1Lease> => {
      await this.gate();
      if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
      this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.version) } };
      return structuredClone(this.lease);
    },
  };
}

/** Resolves once `ok()` holds (checked every 5 ms); rejects naming `what` after 4 s, so the test ends and stops its elector. */
function until(what: string, ok: () => boolean): Promise<void> {
  const giveUpAt = Date.now() + 4_000;
  return new Promise((resolve, reject) => {
    const check = () => (ok() ? resolve() : Date.now() > giveUpAt ? reject(new Error(`expected ${what} within 4 s`)) : setTimeout(check, 5));
    check();
  });
}

describe('LeaderElector watchdog', () => {
  it('a term stopped by the renew deadline is followed by a new term once renewals succeed again, not by renewals with nobody planning', async () => {
    const leases = new StallingLeases();
    const terms: AbortSignal[] = [];
    const elector = new LeaderElector({
      coordination: leases.api as unknown as CoordinationV1Api,
      namespace: 'ns',
      leaseName: 'lease',
      identity: 'replica-a',
      leaseDurationMs: 1_500,
      renewDeadlineMs: 600,
      retryPeriodMs: 100,
      releaseOnCancel: false,
      logger: createLogger('leader-test', 'silent'),
      onStartedLeading: (_epoch, signal) =>
        new Promise<void>((resolve) => {
          terms.push(signal);
          signal.addEventListener('abort', () => resolve(), { once: true });
        }),
    });
    const running = elector.start();
    try {
      await until('a first term', () => terms.length === 1);
      // The API stalls past the renew deadline: the watchdog stops the term's work.
      leases.stalled = true;
      await until('the watchdog to stop the first term', () => terms[0]?.aborted === true);
      expect(terms).toHaveLength(1);
      // The API answers again before the Lease expired for anyone else: this replica renews it,
      // and it must plan under it again (a new term), not hold it with the work stopped.
      leases.resume();
      await until('a second term after renewals succeed again', () => terms.length === 2);
      expect(terms[1]?.aborted).toBe(false);
      expect(elector.isLeader()).toBe(true);
    } finally {
      leases.resume();
      await elector.stop();
      await running;
    }
  });
});
