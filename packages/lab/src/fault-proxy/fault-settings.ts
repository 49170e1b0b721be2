// What a fault proxy does to the next request: the run-time fault settings, their validation
// and the pure per-request decision. No sockets here, so the odds and scoping are unit-tested.

export type PartitionMode =
  /** Every connection is cut, new requests hang (never reach the server) until healed, then are cut. */
  | 'hang'
  /** Every connection is cut and new requests are reset at once (a refused route). */
  | 'reset';

/** Which requests the random faults (latency, 500s, 429s) apply to. */
export type FaultScope = 'all' | 'watches' | 'non-watches';

export interface FaultSettings {
  /** Added before forwarding each request in scope. */
  latencyMs: number;
  /** Uniform extra 0..latencyJitterMs on top of latencyMs. */
  latencyJitterMs: number;
  /** Share (0..1) of requests in scope answered 500 without reaching the server. */
  errorRate: number;
  /** Share (0..1) of requests in scope answered "too many requests" with Retry-After. */
  throttleRate: number;
  retryAfterSeconds: number;
  scope: FaultScope;
  /** Only requests whose path contains this string are in scope (all when empty). */
  pathIncludes: string;
  /** The next N watch requests are answered 410 Gone (reason Expired). */
  expireNextWatches: number;
  /** The next N requests in scope that are not watches are answered 500 (then errorRate applies). */
  failNextRequests: number;
  /** How a forced 410 is delivered: as the API server does (200 + ERROR event) or as an HTTP 410. */
  expireAs: 'event' | 'status';
  /** Requests hang until resumed, streams stop flowing; then everything goes on. */
  paused: boolean;
  partition: PartitionMode | 'off';
}

export const NO_FAULTS: Readonly<FaultSettings> = Object.freeze({
  latencyMs: 0,
  latencyJitterMs: 0,
  errorRate: 0,
  throttleRate: 0,
  retryAfterSeconds: 1,
  scope: 'all',
  pathIncludes: '',
  expireNextWatches: 0,
  failNextRequests: 0,
  expireAs: 'event',
  paused: false,
  partition: 'off',
});

export class FaultSettingsError extends Error {
  override readonly name = 'FaultSettingsError';
  readonly reason = 'InvalidFaultSettings';
}

/** Merges a partial update into settings, checking each field; throws FaultSettingsError naming the field. */
export function mergeFaultSettings(current: FaultSettings, update: unknown): FaultSettings {
  if (!update || typeof update !== 'object' || Array.isArray(update)) throw new FaultSettingsError('fault settings must be a JSON object');
  const next: FaultSettings = { ...current };
  for (const [field, value] of Object.entries(update as Record<string, unknown>)) {
    switch (field) {
      case 'latencyMs':
      case 'latencyJitterMs':
      case 'retryAfterSeconds':
      case 'expireNextWatches':
      case 'failNextRequests':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new FaultSettingsError(`${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
        next[field] = value;
        break;
      case 'errorRate':
      case 'throttleRate':
        if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new FaultSettingsError(`${field} must be a number in [0, 1], got ${JSON.stringify(value)}`);
        next[field] = value;
        break;
      case 'scope':
        if (value !== 'all' && value !== 'watches' && value !== 'non-watches') throw new FaultSettingsError(`scope must be all, watches or non-watches, got ${JSON.stringify(value)}`);
        next.scope = value;
        break;
      case 'pathIncludes':
        if (typeof value !== 'string') throw new FaultSettingsError(`pathIncludes must be a string, got ${JSON.stringify(value)}`);
        next.pathIncludes = value;
        break;
      case 'expireAs':
        if (value !== 'event' && value !== 'status') throw new FaultSettingsError(`expireAs must be event or status, got ${JSON.stringify(value)}`);
        next.expireAs = value;
        break;
      case 'paused':
        if (typeof value !== 'boolean') throw new FaultSettingsError(`paused must be a boolean, got ${JSON.stringify(value)}`);
        next.paused = value;
        break;
      case 'partition':
        if (value !== 'off' && value !== 'hang' && value !== 'reset') throw new FaultSettingsError(`partition must be off, hang or reset, got ${JSON.stringify(value)}`);
        next.partition = value;
        break;
      default:
        throw new FaultSettingsError(`unknown fault setting ${field}; known: ${Object.keys(NO_FAULTS).join(', ')}`);
    }
  }
  if (next.errorRate + next.throttleRate > 1) throw new FaultSettingsError(`errorRate + throttleRate must be at most 1, got ${next.errorRate + next.throttleRate}`);
  return next;
}

/** A Kubernetes watch: `?watch=true|1` or the legacy `/watch/` path. */
export function isWatchRequest(method: string, url: URL): boolean {
  if (method !== 'GET') return false;
  const watch = url.searchParams.get('watch');
  return watch === 'true' || watch === '1' || /\/watch\//.test(url.pathname);
}

export type FaultDecision =
  | { kind: 'forward'; delayMs: number }
  | { kind: 'error'; delayMs: number }
  | { kind: 'throttle'; delayMs: number; retryAfterSeconds: number }
  | { kind: 'expire'; delayMs: number; as: 'event' | 'status' };

/**
 * What to do with one request once pause and partition have let it through. Consumes one
 * forced expiry when it answers a watch with 410. `random` returns [0, 1).
 */
export function decideFault(settings: FaultSettings, request: { watch: boolean; path: string }, random: () => number = Math.random): { decision: FaultDecision; settings: FaultSettings } {
  const inScope =
    (settings.scope === 'all' || (settings.scope === 'watches') === request.watch) &&
    (settings.pathIncludes === '' || request.path.includes(settings.pathIncludes));
  const delayMs = inScope ? settings.latencyMs + (settings.latencyJitterMs > 0 ? Math.floor(random() * (settings.latencyJitterMs + 1)) : 0) : 0;
  if (request.watch && settings.expireNextWatches > 0) {
    return { decision: { kind: 'expire', delayMs, as: settings.expireAs }, settings: { ...settings, expireNextWatches: settings.expireNextWatches - 1 } };
  }
  if (inScope && !request.watch && settings.failNextRequests > 0) {
    return { decision: { kind: 'error', delayMs }, settings: { ...settings, failNextRequests: settings.failNextRequests - 1 } };
  }
  if (inScope && (settings.errorRate > 0 || settings.throttleRate > 0)) {
    const roll = random();
    if (roll < settings.errorRate) return { decision: { kind: 'error', delayMs }, settings };
    if (roll < settings.errorRate + settings.throttleRate) return { decision: { kind: 'throttle', delayMs, retryAfterSeconds: settings.retryAfterSeconds }, settings };
  }
  return { decision: { kind: 'forward', delayMs }, settings };
}
