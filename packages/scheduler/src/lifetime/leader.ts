// Who plans: leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection
// does it (lease 15 s, renew deadline 10 s, retry 2 s; optimistic concurrency on
// resourceVersion; expiry judged by the local time a record was last seen to change, never
// by comparing clocks). It decides who plans, never what is planned. One difference from
// client-go: a renewal that misses the renew deadline pauses the term (term-gate.ts) instead of
// ending it; the term resumes when a renewal succeeds with the Lease unchanged, and ends when
// another replica holds the Lease or took it meanwhile.
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { isAlreadyExists, isConflict, isNotFound, type Logger } from '@herdless/core';
import { nextLeaseSpec } from './lease-decision.js';
import { TermGate } from './term-gate.js';
import { waitOrAbort } from './wait-or-abort.js';

export interface LeaderElectionOptions {
  coordination: CoordinationV1Api;
  namespace: string;
  leaseName: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
  /**
   * Starts the leader's work; `signal` aborts the moment leadership is lost or the elector stops.
   * `gate` is paused while the Lease's renewal is overdue: the work enqueues nothing then.
   */
  onStartedLeading(epoch: number, signal: AbortSignal, gate: TermGate): void | Promise<void>;
  /** Called once the leader's work has stopped (after onStartedLeading's promise settled). */
  onStoppedLeading?(): void;
  onNewLeader?(identity: string): void;
  /** Clear holderIdentity on stop so a standby takes over at once (client-go's ReleaseOnCancel). */
  releaseOnCancel?: boolean;
  now?: () => number;
  /**
   * The Lease as another part of this process last saw it, and the local time it was seen to
   * change (the shard campaign lists the Leases every retry period): expiry is then judged from
   * that time, not from this elector's first read, so a dead holder's shard is taken within one
   * lease duration of its last renewal.
   */
  seen?: { lease: V1Lease; changedAtMs: number };
}

interface ObservedRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  leaseTransitions: number;
  acquireTime?: Date;
  renewTime?: Date;
  resourceVersion?: string;
}

const JITTER = 1.2;
/** A renewal whose write conflicted is read and written again at once, this many times at most. */
export const CONFLICT_RETRIES = 3;

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly now: () => number;
  private observed: ObservedRecord | undefined;
  /** Local time the observed record last changed. */
  private observedAtMs = 0;
  private lastRenewMs = 0;
  private stopController = new AbortController();
  private leading: { epoch: number; controller: AbortController; gate: TermGate; done: Promise<void> } | undefined;
  /** Writes of the Lease that conflicted since the last renewal (logged when the deadline passes). */
  private conflictsSinceRenewal = 0;
  /** Local time the current pause began (no renewal within the renew deadline). */
  private pausedAtMs = 0;
  private running: Promise<void> | undefined;
  private reportedLeader: string | undefined;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.now = opts.now ?? Date.now;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs * JITTER)) {
      throw new Error(`expected leaseDuration > renewDeadline > ${JITTER} × retryPeriod, found ${this.leaseDurationMs} / ${this.renewDeadlineMs} / ${this.retryPeriodMs} ms`);
    }
    if (opts.seen) this.record(opts.seen.lease, opts.seen.changedAtMs);
  }

  /** The current epoch (leaseTransitions) while leading. */
  get epoch(): number | undefined {
    return this.leading?.epoch;
  }

  /** Whether this replica has read (or created) the Lease at least once: it knows who leads. */
  leadershipKnown(): boolean {
    return this.observed !== undefined;
  }

  /** The Lease's leaseTransitions as last read: how often leadership has moved (any replica). */
  leaseTransitions(): number | undefined {
    return this.observed?.leaseTransitions;
  }

  isLeader(): boolean {
    return this.leading !== undefined;
  }

  /** Campaigns until stopped; resolves after stop(). */
  start(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops leading (awaiting the leader's work), releases the Lease if held, and ends the campaign. */
  async stop(): Promise<void> {
    this.stopController.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const stop = this.stopController.signal;
    while (!stop.aborted) {
      // Campaign: try every retryPeriod (jittered) until the Lease is ours.
      if (!(await this.tryAcquireOrRenew())) {
        await waitOrAbort(this.retryPeriodMs * (1 + Math.random() * (JITTER - 1)), stop);
        continue;
      }
      this.becomeLeader();
      // Lead: renew every retryPeriod; give up when no renewal succeeded within renewDeadline.
      while (!stop.aborted && this.leading) {
        await waitOrAbort(this.retryPeriodMs, anySignal(stop, this.leading.controller.signal));
        if (stop.aborted || !this.leading) break;
        if (this.leading.controller.signal.aborted) {
          // The work ended on its own. The term is over even if the next renewal would succeed:
          // renewing a Lease nobody plans under would keep the shard from every other replica.
          // Wait a retry period, then campaign again (a new term, with fresh planning).
          await this.stopLeading();
          await waitOrAbort(this.retryPeriodMs, stop);
          break;
        }
        const ok = await this.tryAcquireOrRenew();
        const leading = this.leading;
        if (!leading) break;
        if (ok) {
          if (this.observed?.leaseTransitions !== leading.epoch) {
            // Renewed as a takeover: the Lease was another's (or free) meanwhile, so this term's
            // plan may be stale. End it; the campaign's next round starts a term in the new epoch.
            this.opts.logger.warn({ lease: this.opts.leaseName, epoch: leading.epoch, transitions: this.observed?.leaseTransitions }, 'the lease changed hands while planning was paused; a new term');
            await this.stopLeading();
            break;
          }
          if (leading.gate.resume()) this.opts.logger.info({ lease: this.opts.leaseName, epoch: leading.epoch, pausedMs: this.now() - this.pausedAtMs }, 'lease renewed; planning resumes');
          continue;
        }
        const heldByOther = this.observed !== undefined && this.observed.holderIdentity !== this.opts.identity && this.observed.holderIdentity !== '';
        if (heldByOther) {
          this.opts.logger.warn({ lease: this.opts.leaseName, holder: this.observed?.holderIdentity }, 'lost the lease; stopping planning');
          await this.stopLeading();
        } else {
          // Not renewed, and nobody else holds it: paused (the watchdog too does this), renewing again.
          this.pauseIfLate(leading);
        }
      }
    }
    const wasLeading = this.leading !== undefined;
    await this.stopLeading();
    if (wasLeading && this.opts.releaseOnCancel !== false) await this.release();
  }

  private becomeLeader(): void {
    const epoch = this.observed?.leaseTransitions ?? 0;
    const controller = new AbortController();
    const gate = new TermGate();
    // Pause planning the moment no renewal succeeded within renewDeadline, even if a renew call hangs.
    const watchdog = setInterval(() => {
      if (this.leading?.controller === controller) this.pauseIfLate(this.leading);
    }, Math.max(50, Math.min(500, this.retryPeriodMs / 4)));
    watchdog.unref();
    this.opts.logger.info({ lease: this.opts.leaseName, identity: this.opts.identity, epoch }, 'became leader');
    const done = (async () => {
      try {
        await this.opts.onStartedLeading(epoch, controller.signal, gate);
      } catch (e) {
        this.opts.logger.error({ err: e }, 'leader work failed; giving up the lease');
        controller.abort();
      }
    })();
    this.leading = { epoch, controller, gate, done };
    void done.then(() => {
      // The leader's work ended on its own (e.g. it failed): end the term; the loop campaigns again after a retry period.
      if (this.leading?.controller === controller && !controller.signal.aborted) controller.abort();
    });
    controller.signal.addEventListener('abort', () => clearInterval(watchdog), { once: true });
  }

  /** Pauses the term when no renewal succeeded within the renew deadline. */
  private pauseIfLate(leading: { gate: TermGate }): void {
    if (this.now() - this.lastRenewMs < this.renewDeadlineMs || !leading.gate.pause()) return;
    this.pausedAtMs = this.now();
    this.opts.logger.warn({ lease: this.opts.leaseName, sinceRenewalMs: this.pausedAtMs - this.lastRenewMs, conflicts: this.conflictsSinceRenewal }, 'renew deadline passed; planning paused until the lease is renewed');
  }

  private async stopLeading(): Promise<void> {
    const leading = this.leading;
    if (!leading) return;
    this.leading = undefined;
    leading.controller.abort();
    await leading.done;
    this.opts.onStoppedLeading?.();
    this.opts.logger.info({ lease: this.opts.leaseName, identity: this.opts.identity, epoch: leading.epoch }, 'stopped leading');
  }

  /**
   * One round of client-go's tryAcquireOrRenew, tried again at once (read anew) when the write
   * conflicted, up to CONFLICT_RETRIES times. Other writers share a plan shard's Lease: the
   * budget exchange patches its demand annotation every retry period while demands move (a
   * creation storm), and a patch landing between the renewal's read and its write fails the
   * write; both loops run every retry period in one process, so once in phase they could
   * conflict round after round. A write still succeeds only on the record it was computed from.
   * True when this replica holds the Lease afterwards.
   */
  private async tryAcquireOrRenew(): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.tryAcquireOrRenewOnce();
      if (outcome !== 'conflict') return outcome === 'held';
      this.conflictsSinceRenewal++;
      if (attempt >= CONFLICT_RETRIES) return false;
    }
  }

  private async tryAcquireOrRenewOnce(): Promise<'held' | 'not held' | 'conflict'> {
    const { coordination, namespace, leaseName: name, identity } = this.opts;
    const now = this.now();
    const leaseDurationSeconds = Math.max(1, Math.ceil(this.leaseDurationMs / 1000));
    let lease: V1Lease;
    try {
      lease = await coordination.readNamespacedLease({ name, namespace });
    } catch (e) {
      if (!isNotFound(e)) {
        this.opts.logger.warn({ err: describe(e), lease: name }, 'reading the lease failed');
        return 'not held';
      }
      try {
        const created = await coordination.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds, leaseTransitions: 0, acquireTime: new V1MicroTime(now), renewTime: new V1MicroTime(now) },
          },
        });
        this.record(created, this.now());
        this.renewed();
        return 'held';
      } catch (err) {
        if (!isAlreadyExists(err)) this.opts.logger.warn({ err: describe(err), lease: name }, 'creating the lease failed');
        return 'not held';
      }
    }

    const old = this.record(lease, now);
    const next = nextLeaseSpec(
      { ...old, ...(old.acquireTime ? { acquireTimeMs: old.acquireTime.getTime() } : {}) },
      this.observedAtMs,
      now,
      identity,
      leaseDurationSeconds,
    );
    if (!next) return 'not held'; // someone else holds an unexpired lease
    const spec = {
      holderIdentity: next.holderIdentity,
      leaseDurationSeconds: next.leaseDurationSeconds,
      leaseTransitions: next.leaseTransitions,
      acquireTime: new V1MicroTime(next.acquireTimeMs),
      renewTime: new V1MicroTime(next.renewTimeMs),
    };
    try {
      const replaced = await coordination.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: { ...lease.spec, ...spec } } });
      this.record(replaced, this.now());
      this.renewed();
      return 'held';
    } catch (e) {
      // 409: someone wrote the Lease since we read it (another replica, or an annotation).
      if (isConflict(e)) return 'conflict';
      this.opts.logger.warn({ err: describe(e), lease: name }, 'updating the lease failed');
      return 'not held';
    }
  }

  private renewed(): void {
    this.lastRenewMs = this.now();
    this.conflictsSinceRenewal = 0;
  }

  private record(lease: V1Lease, at: number): ObservedRecord {
    const spec = lease.spec ?? {};
    const rec: ObservedRecord = {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? Math.ceil(this.leaseDurationMs / 1000),
      leaseTransitions: spec.leaseTransitions ?? 0,
    };
    if (spec.acquireTime) rec.acquireTime = new Date(spec.acquireTime as unknown as string);
    if (spec.renewTime) rec.renewTime = new Date(spec.renewTime as unknown as string);
    if (lease.metadata?.resourceVersion) rec.resourceVersion = lease.metadata.resourceVersion;
    const changed =
      !this.observed ||
      this.observed.holderIdentity !== rec.holderIdentity ||
      this.observed.leaseTransitions !== rec.leaseTransitions ||
      this.observed.renewTime?.getTime() !== rec.renewTime?.getTime() ||
      this.observed.acquireTime?.getTime() !== rec.acquireTime?.getTime();
    if (changed) this.observedAtMs = at;
    this.observed = rec;
    if (rec.holderIdentity !== '' && rec.holderIdentity !== this.reportedLeader) {
      this.reportedLeader = rec.holderIdentity;
      this.opts.onNewLeader?.(rec.holderIdentity);
    }
    return rec;
  }

  /** client-go's release: keep leaseTransitions, clear the holder, shorten the lease to 1 s. */
  private async release(): Promise<void> {
    const { coordination, namespace, leaseName: name, identity } = this.opts;
    try {
      const lease = await coordination.readNamespacedLease({ name, namespace });
      if ((lease.spec?.holderIdentity ?? '') !== identity) return;
      const now = this.now();
      await coordination.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: new V1MicroTime(now), renewTime: new V1MicroTime(now) },
        },
      });
      this.opts.logger.info({ lease: name, identity }, 'released the lease');
    } catch (e) {
      this.opts.logger.warn({ err: describe(e), lease: name }, 'releasing the lease failed; it expires on its own');
    }
  }
}


function anySignal(...signals: AbortSignal[]): AbortSignal {
  return AbortSignal.any(signals);
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message.slice(0, 300);
  return String(e).slice(0, 300);
}
