// Faults of our AWS endpoint itself, switched at run time: a share of 500s, added latency, an
// outage window, a window of slow replies (held past a client's timeout) and a quota lowered
// for a while. The endpoint's request handler asks `faults.decide(operation)` once per AWS
// request, after recognising the operation and before its quota (an outage refuses at the front
// door); a returned AwsError is the reply. A request the quota admits then waits out
// `faults.hold(operation)`: a slow store has counted the request when it arrived and answers it
// late. It never touches secrets or the request log.
import { AwsError } from './aws-error.js';
import { ENDPOINT_OPERATIONS, isEndpointOperation, isQuotaName, QUOTA_NAMES, type EndpointOperation, type Quota, type QuotaName } from './operations.js';

export interface AwsFaultSettings {
  /** Share (0..1) of requests answered 500 InternalServiceError. */
  errorRate: number;
  latencyMs: number;
  /** Uniform extra 0..latencyJitterMs. */
  latencyJitterMs: number;
  /** Operations the random faults and the outage apply to; empty = all. */
  operations: EndpointOperation[];
  /** Epoch ms window during which every request in scope is answered 503 ServiceUnavailable. */
  outage: { fromMs: number; untilMs: number } | null;
  /**
   * Epoch ms window during which every request in scope that arrives is held `holdMs` before it
   * is answered (a store that accepts connections and answers late: past the SDK's timeout).
   */
  slowReplies: { holdMs: number; fromMs: number; untilMs: number } | null;
}

export const NO_AWS_FAULTS: Readonly<AwsFaultSettings> = Object.freeze({ errorRate: 0, latencyMs: 0, latencyJitterMs: 0, operations: [], outage: null, slowReplies: null });

/** What lowering a quota needs of the endpoint: its OperationQuotas fits. */
export interface QuotaControl {
  set(name: QuotaName, rps: number, burst?: number, opts?: { full?: boolean }): Quota;
  all(): Record<QuotaName, Quota>;
}

export interface AwsFaultsOptions {
  quotas?: QuotaControl;
  now?: () => number;
  random?: () => number;
}

export interface AwsFaultsState {
  settings: AwsFaultSettings;
  /** Quotas lowered by lowerQuota and what they come back to. */
  lowered: Partial<Record<QuotaName, { quota: Quota; restoresTo: Quota; untilMs: number | null }>>;
  injected: { errors: number; outage: number; delayed: number };
}

export class AwsEndpointFaults {
  private settings: AwsFaultSettings = { ...NO_AWS_FAULTS, operations: [] };
  private readonly lowered = new Map<QuotaName, { quota: Quota; restoresTo: Quota; untilMs: number | null; timer?: NodeJS.Timeout }>();
  private readonly injected = { errors: 0, outage: 0, delayed: 0 };
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly opts: AwsFaultsOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  /** Waits out the added latency and any slow-reply hold of a request arriving now. */
  async hold(operation: EndpointOperation): Promise<void> {
    const delayMs = this.delayMs(operation);
    if (delayMs > 0) {
      this.injected.delayed++;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /** How long a request arriving now is held before it is answered (pure given settings, clock and random). */
  delayMs(operation: EndpointOperation): number {
    const s = this.settings;
    if (s.operations.length > 0 && !s.operations.includes(operation)) return 0;
    const t = this.now();
    const held = s.slowReplies && t >= s.slowReplies.fromMs && t < s.slowReplies.untilMs ? s.slowReplies.holdMs : 0;
    return held + s.latencyMs + (s.latencyJitterMs > 0 ? Math.floor(this.random() * (s.latencyJitterMs + 1)) : 0);
  }

  /** The error for this request right now, without latency (pure given settings, clock and random). */
  decide(operation: EndpointOperation): AwsError | undefined {
    const s = this.settings;
    if (s.operations.length > 0 && !s.operations.includes(operation)) return undefined;
    const t = this.now();
    if (s.outage && t >= s.outage.fromMs && t < s.outage.untilMs) {
      this.injected.outage++;
      return new AwsError('ServiceUnavailable', 'Service is unavailable (injected outage).', 503);
    }
    if (s.errorRate > 0 && this.random() < s.errorRate) {
      this.injected.errors++;
      return new AwsError('InternalServiceError', 'An error occurred on the server side (injected fault).', 500);
    }
    return undefined;
  }

  /** Merges a partial update; throws AwsError InvalidParameterException naming the field. */
  update(update: unknown): AwsFaultsState {
    if (!update || typeof update !== 'object' || Array.isArray(update)) throw invalid('fault settings must be a JSON object');
    const next: AwsFaultSettings = { ...this.settings };
    for (const [field, value] of Object.entries(update as Record<string, unknown>)) {
      switch (field) {
        case 'errorRate':
          if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw invalid(`errorRate must be a number in [0, 1], got ${JSON.stringify(value)}`);
          next.errorRate = value;
          break;
        case 'latencyMs':
        case 'latencyJitterMs':
          if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw invalid(`${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
          next[field] = value;
          break;
        case 'operations':
          if (!Array.isArray(value) || value.some((op) => typeof op !== 'string' || !isEndpointOperation(op))) throw invalid(`operations must be a list of ${ENDPOINT_OPERATIONS.join(', ')}`);
          next.operations = [...(value as EndpointOperation[])];
          break;
        case 'outage':
          next.outage = parseOutage(value);
          break;
        case 'slowReplies': {
          if (value === null) {
            next.slowReplies = null;
            break;
          }
          const { holdMs, forMs } = (value ?? {}) as { holdMs?: unknown; forMs?: unknown };
          if (typeof holdMs !== 'number' || !Number.isInteger(holdMs) || holdMs <= 0 || typeof forMs !== 'number' || !(forMs > 0)) {
            throw invalid(`slowReplies must be null or {holdMs: a positive integer, forMs: a positive number}, got ${JSON.stringify(value)}`);
          }
          next.slowReplies = { holdMs, fromMs: this.now(), untilMs: this.now() + forMs };
          break;
        }
        case 'outageForMs':
          if (typeof value !== 'number' || !(value > 0)) throw invalid(`outageForMs must be a positive number, got ${JSON.stringify(value)}`);
          next.outage = { fromMs: this.now(), untilMs: this.now() + value };
          break;
        case 'lowerQuota': {
          const { operation, rps, burst, forMs } = (value ?? {}) as { operation?: string; rps?: number; burst?: number; forMs?: number };
          if (!operation || !isQuotaName(operation) || typeof rps !== 'number') throw invalid(`lowerQuota needs {operation: one of ${QUOTA_NAMES.join(', ')}, rps, burst?, forMs?}`);
          this.lowerQuota(operation, rps, { ...(burst !== undefined ? { burst } : {}), ...(forMs !== undefined ? { forMs } : {}) });
          break;
        }
        default:
          throw invalid(`unknown fault setting ${field}; known: errorRate, latencyMs, latencyJitterMs, operations, outage, outageForMs, slowReplies, lowerQuota`);
      }
    }
    this.settings = next;
    return this.state();
  }

  /** An outage from now for `durationMs` (every request in scope answered 503). */
  startOutage(durationMs: number): AwsFaultsState {
    return this.update({ outageForMs: durationMs });
  }

  /** For `durationMs` from now, every request in scope that arrives is held `holdMs` before its reply. */
  startSlowReplies(holdMs: number, durationMs: number): AwsFaultsState {
    return this.update({ slowReplies: { holdMs, forMs: durationMs } });
  }

  /**
   * Lowers an operation's quota, restored after `forMs` (or by restoreQuotas/reset). Lowering
   * again keeps the first original, so restoring always returns to the configured quota.
   */
  lowerQuota(operation: QuotaName, rps: number, opts: { burst?: number; forMs?: number } = {}): Quota {
    const quotas = this.opts.quotas;
    if (!quotas) throw invalid('this endpoint did not give its quotas to the fault module');
    const previous = this.lowered.get(operation);
    if (previous?.timer) clearTimeout(previous.timer);
    const restoresTo = previous?.restoresTo ?? quotas.all()[operation];
    const quota = quotas.set(operation, rps, opts.burst);
    const entry: { quota: Quota; restoresTo: Quota; untilMs: number | null; timer?: NodeJS.Timeout } = { quota, restoresTo, untilMs: opts.forMs !== undefined ? this.now() + opts.forMs : null };
    if (opts.forMs !== undefined) {
      entry.timer = setTimeout(() => this.restoreQuota(operation), opts.forMs);
      entry.timer.unref();
    }
    this.lowered.set(operation, entry);
    return quota;
  }

  restoreQuota(operation: QuotaName): void {
    const entry = this.lowered.get(operation);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.lowered.delete(operation);
    // The lowered quota was a fault; once it ends the endpoint answers as the configured one
    // would, whose bucket would have refilled meanwhile (not with what the fault left in it).
    this.opts.quotas?.set(operation, entry.restoresTo.rps, entry.restoresTo.burst, { full: true });
  }

  /** No faults: rates zero, no outage, every lowered quota restored. */
  reset(): AwsFaultsState {
    this.settings = { ...NO_AWS_FAULTS, operations: [] };
    for (const op of [...this.lowered.keys()]) this.restoreQuota(op);
    return this.state();
  }

  state(): AwsFaultsState {
    const lowered: AwsFaultsState['lowered'] = {};
    for (const [op, { quota, restoresTo, untilMs }] of this.lowered) lowered[op] = { quota, restoresTo, untilMs };
    return { settings: { ...this.settings, operations: [...this.settings.operations] }, lowered, injected: { ...this.injected } };
  }
}

function parseOutage(value: unknown): AwsFaultSettings['outage'] {
  if (value === null) return null;
  const { fromMs, untilMs } = (value ?? {}) as { fromMs?: unknown; untilMs?: unknown };
  if (typeof fromMs !== 'number' || typeof untilMs !== 'number' || !(untilMs > fromMs)) throw invalid('outage must be null or {fromMs, untilMs} (epoch ms, untilMs > fromMs)');
  return { fromMs, untilMs };
}

function invalid(message: string): AwsError {
  return new AwsError('InvalidParameterException', message);
}
