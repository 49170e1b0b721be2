// Kubernetes Events on an ExternalSecret when its sync starts failing (or fails for a new reason)
// and when it recovers: transitions only, never one per retry, and rate-limited per object and in
// total (as client-go's spam filter is), so a storm of failures is not a storm of Events. An
// Event carries the condition's reason and message, which never hold a value.
import { Counter, EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, readyConditionOf, type Condition, type ExternalSecret, type KubeClients, type Logger } from '@herdless/core';

export interface SyncEvent {
  type: 'Warning' | 'Normal';
  reason: string;
  message: string;
}

/** ESO's reason for a failed sync (esv1.ReasonUpdateFailed); ours for the pass that ends one. */
export const EVENT_REASON_FAILED = 'UpdateFailed';
export const EVENT_REASON_RECOVERED = 'Recovered';

/** The Event a Ready condition change deserves: a failure that is new (or has a new reason), or a recovery. */
export function eventForTransition(previous: Condition | undefined, next: { status: 'True' | 'False'; reason: string; message: string }): SyncEvent | undefined {
  if (next.status === 'False') {
    if (previous?.status === 'False' && previous.reason === next.reason) return undefined;
    return { type: 'Warning', reason: EVENT_REASON_FAILED, message: `${next.reason}: ${next.message}` };
  }
  if (previous?.status !== 'False') return undefined;
  return { type: 'Normal', reason: EVENT_REASON_RECOVERED, message: `synced again after ${previous.reason ?? 'a failure'}` };
}

export interface EventLimits {
  /** Events one object may get at once (client-go's spam filter: 25). */
  perObjectBurst: number;
  /** Refill per object, per second (client-go: one per 5 minutes). */
  perObjectRps: number;
  /** Events this process may send at once, over all objects. */
  totalBurst: number;
  totalRps: number;
}

export const DEFAULT_EVENT_LIMITS: EventLimits = { perObjectBurst: 5, perObjectRps: 1 / 300, totalBurst: 100, totalRps: 5 };

class TokenBucket {
  private tokens: number;
  private atMs: number;
  constructor(
    private readonly burst: number,
    private readonly rps: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.atMs = nowMs;
  }
  refill(nowMs: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.atMs) / 1000) * this.rps);
    this.atMs = nowMs;
    return this.tokens;
  }
  take(): void {
    this.tokens -= 1;
  }
  full(nowMs: number): boolean {
    return this.refill(nowMs) >= this.burst;
  }
}

/** Token buckets per object and for the whole process; a full object bucket is forgotten (memory stays bounded by the busy objects). */
export class EventRateLimiter {
  private readonly total: TokenBucket;
  private readonly perObject = new Map<string, TokenBucket>();

  constructor(
    private readonly limits: EventLimits = DEFAULT_EVENT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.total = new TokenBucket(limits.totalBurst, limits.totalRps, now());
  }

  /** Whether an Event for this object may be sent now (a token of both buckets is taken when it may). */
  allow(objectKey: string): boolean {
    const nowMs = this.now();
    let own = this.perObject.get(objectKey);
    if (!own) {
      if (this.perObject.size >= 10_000) this.forgetFull(nowMs);
      own = new TokenBucket(this.limits.perObjectBurst, this.limits.perObjectRps, nowMs);
      this.perObject.set(objectKey, own);
    }
    if (own.refill(nowMs) < 1 || this.total.refill(nowMs) < 1) return false;
    own.take();
    this.total.take();
    return true;
  }

  private forgetFull(nowMs: number): void {
    for (const [key, bucket] of this.perObject) if (bucket.full(nowMs)) this.perObject.delete(key);
  }
}

const events = new Counter({
  name: 'herdless_events_total',
  help: 'Kubernetes Events on ExternalSecrets (sync failures and recoveries) by type, reason and outcome (sent, limited, error).',
  labelNames: ['type', 'reason', 'outcome'],
});

/** Kubernetes caps an Event's message; ours are short, this keeps a long provider message within it. */
const MAX_MESSAGE = 1024;

export class SyncEventRecorder {
  constructor(
    private readonly kube: KubeClients,
    private readonly logger: Logger,
    private readonly limiter: EventRateLimiter,
    private readonly instance: string,
  ) {}

  /** Records the Event for a Ready transition, if it deserves one and the limits allow; never throws. */
  async recordTransition(es: ExternalSecret, next: { status: 'True' | 'False'; reason: string; message: string }): Promise<void> {
    const event = eventForTransition(readyConditionOf(es), next);
    if (!event) return;
    const { namespace, name } = es.metadata;
    if (!this.limiter.allow(`${namespace}/${name}`)) {
      events.inc({ type: event.type, reason: event.reason, outcome: 'limited' });
      return;
    }
    const now = new Date();
    try {
      await this.kube.core.createNamespacedEvent({
        namespace: namespace as string,
        body: {
          metadata: { generateName: `${name}.`, namespace },
          involvedObject: { apiVersion: es.apiVersion ?? `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`, kind: es.kind ?? 'ExternalSecret', name, namespace, uid: es.metadata.uid, resourceVersion: es.metadata.resourceVersion },
          type: event.type,
          reason: event.reason,
          message: event.message.slice(0, MAX_MESSAGE),
          source: { component: 'herdless-worker' },
          reportingComponent: 'herdless.io/worker',
          reportingInstance: this.instance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      events.inc({ type: event.type, reason: event.reason, outcome: 'sent' });
    } catch (e) {
      events.inc({ type: event.type, reason: event.reason, outcome: 'error' });
      this.logger.warn({ namespace, name, reason: event.reason, err: e instanceof Error ? e.message : String(e) }, 'could not record an Event');
    }
  }
}
