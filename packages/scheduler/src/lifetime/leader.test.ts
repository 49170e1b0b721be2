// The elector's watchdog against a Lease API that stalls: when no renewal succeeds within the
// renew deadline the term is paused (it enqueues nothing), and once the API answers again it
// resumes if nobody else held the Lease meanwhile, or ends if somebody did. Before the pause, the
// term was ended and a new one started, which at 100,000 in a creation storm cost 18 to 65 s of
// planning anew each time (lab, 2026-12-07). Before that, the elector went on renewing a Lease
// whose work the watchdog had stopped: nobody planned under it, for good. The real API server's
// Lease is covered by packages/scheduler/test/leader-failover.test.ts and the chaos tests.
import { describe, expect, it } from 'vitest';
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { createLogger } from '@herdless/core';
import { LeaderElector } from './leader.js';
import type { TermGate } from './term-gate.js';

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

  /** Successful writes (creates and replaces). */
  writes = 0;
  /**
   * Set: another writer patches the Lease's annotations just after a read that comes at least this
   * long after the previous read (once a round, as the budget exchange does), so a renewal's
   * write computed from that read conflicts; a read made at once after it is not followed by one.
   */
  patchAfterReadGapMs: number | undefined;
  private lastReadMs = -Infinity;

  /** Another replica's write, straight to the store (it holds or released the Lease now). */
  overwrite(spec: NonNullable<V1Lease['spec']>): void {
    if (!this.lease) throw new Error('expected a Lease to overwrite, found none');
    this.lease = { ...this.lease, spec: { ...this.lease.spec, ...spec }, metadata: { ...this.lease.metadata, resourceVersion: String(++this.version) } };
  }

  get transitions(): number {
    return this.lease?.spec?.leaseTransitions ?? 0;
  }

  readonly api = {
    readNamespacedLease: async (): Promise<V1Lease> => {
      await this.gate();
      if (!this.lease) throw Object.assign(new Error('not found'), { code: 404 });
      const read = structuredClone(this.lease);
      const now = Date.now();
      if (this.patchAfterReadGapMs !== undefined && now - this.lastReadMs >= this.patchAfterReadGapMs) {
        this.lease = { ...this.lease, metadata: { ...this.lease.metadata, annotations: { demand: String(now) }, resourceVersion: String(++this.version) } };
      }
      this.lastReadMs = now;
      return read;
    },
    createNamespacedLease: async ({ body }: { body: V1Lease }): Promise<V1Lease> => {
      await this.gate();
      if (this.lease) throw Object.assign(new Error('already exists'), { code: 409 });
      this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.version) } };
      this.writes++;
      return structuredClone(this.lease);
    },
    replaceNamespacedLease: async ({ body }: { body: V1Lease }): Promise<V1Lease> => {
      await this.gate();
      if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
      this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.version) } };
      this.writes++;
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

interface Term {
  epoch: number;
  signal: AbortSignal;
  gate: TermGate;
}

/** An elector on `leases` with short timings whose terms wait for their signal; `terms` lists them. */
function electorOn(leases: StallingLeases): { elector: LeaderElector; terms: Term[] } {
  const terms: Term[] = [];
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
    onStartedLeading: (epoch, signal, gate) =>
      new Promise<void>((resolve) => {
        terms.push({ epoch, signal, gate });
        signal.addEventListener('abort', () => resolve(), { once: true });
      }),
  });
  return { elector, terms };
}

/** Runs `body` with an elector leading its first term on a fresh in-memory Lease, and stops it after, even when `body` fails. */
async function withFirstTerm(body: (ctx: { leases: StallingLeases; elector: LeaderElector; terms: Term[]; first: Term }) => Promise<void>): Promise<void> {
  const leases = new StallingLeases();
  const { elector, terms } = electorOn(leases);
  const running = elector.start();
  try {
    await until('a first term', () => terms.length === 1);
    await body({ leases, elector, terms, first: terms[0] as Term });
  } finally {
    leases.resume();
    leases.patchAfterReadGapMs = undefined;
    await elector.stop();
    await running;
  }
}

/** The API stalls past the renew deadline: the watchdog pauses the term's enqueues. */
async function stallUntilPaused(leases: StallingLeases, term: Term): Promise<void> {
  expect(term.gate.paused).toBe(false);
  leases.stalled = true;
  await until('the watchdog to pause the term', () => term.gate.paused);
}

describe('LeaderElector watchdog', () => {
  it('a renewal past the renew deadline pauses the term, and a renewal of the unchanged Lease resumes the same term', () =>
    withFirstTerm(async ({ leases, elector, terms, first }) => {
      await stallUntilPaused(leases, first);
      // The API answers again before anyone else took the Lease: the same term plans on, with
      // the plan it kept (no new term, so no queue scan and no planning anew).
      leases.resume();
      await until('the term to resume', () => !first.gate.paused);
      expect(terms).toHaveLength(1);
      expect(first.signal.aborted).toBe(false);
      expect(elector.isLeader()).toBe(true);
      expect(elector.epoch).toBe(first.epoch);
    }));

  it('a paused term ends when another replica holds the Lease, and is not resumed', () =>
    withFirstTerm(async ({ leases, elector, first }) => {
      await stallUntilPaused(leases, first);
      // Meanwhile the Lease expired for another replica, which took it (a new epoch).
      leases.overwrite({ holderIdentity: 'replica-b', leaseTransitions: leases.transitions + 1, renewTime: new V1MicroTime(Date.now()) });
      leases.resume();
      await until('the paused term to end', () => first.signal.aborted);
      expect(first.gate.paused).toBe(true);
      expect(elector.isLeader()).toBe(false);
    }));

  it('a Lease another replica took and released while the term was paused starts a new term in the new epoch', () =>
    withFirstTerm(async ({ leases, terms, first }) => {
      await stallUntilPaused(leases, first);
      // Another replica held it and released it: free, one transition later. This replica's
      // renewal is a takeover; the paused term's plan may be stale, so it must not resume.
      leases.overwrite({ holderIdentity: '', leaseTransitions: leases.transitions + 1, renewTime: new V1MicroTime(Date.now()) });
      leases.resume();
      await until('a second term', () => terms.length === 2);
      expect(first.signal.aborted).toBe(true);
      // Two transitions: the other replica's and this one's takeover of the free Lease.
      expect(terms[1]?.epoch).toBe(first.epoch + 2);
      expect(terms[1]?.epoch).toBe(leases.transitions);
      expect(terms[1]?.gate.paused).toBe(false);
    }));

  it('renews through another writer that patches the Lease between each round\'s read and write, without pausing', () =>
    withFirstTerm(async ({ leases, terms, first }) => {
      let paused = 0;
      first.gate.onChange((p) => (paused += p ? 1 : 0));
      // Every round's first read is followed by a patch of the annotations (half a retry period).
      leases.patchAfterReadGapMs = 50;
      const writes = leases.writes;
      // Renewals over more than three renew deadlines (600 ms at 100 ms rounds).
      await until('twenty renewals', () => leases.writes >= writes + 20);
      expect(paused).toBe(0);
      expect(first.signal.aborted).toBe(false);
      expect(terms).toHaveLength(1);
    }));
});
