// Every request our AWS endpoint answered: operation, outcome and time. Tests assert on it
// ("counters match what was sent"), the lab charts it and the bench computes peak rates and
// throttling from it. Never holds a secret value. Secrets Manager and Parameter Store requests
// share the log; their operation names do not overlap.
import type { EndpointOperation } from './operations.js';

export type RequestOutcome = 'ok' | 'throttled' | 'error';

export interface RequestRecord {
  /** Epoch milliseconds when the reply was decided. */
  atMs: number;
  /** `Unknown` for a target we do not speak. */
  operation: EndpointOperation | 'Unknown';
  outcome: RequestOutcome;
  /** Values returned: secrets (1 for GetSecretValue, up to 20 for BatchGetSecretValue) or
   * parameters (1 for GetParameter, up to 10 for GetParameters and GetParametersByPath). */
  secrets: number;
  /** The AWS error type for outcomes other than ok. */
  errorType?: string;
  /** Region from the SigV4 credential scope. */
  region: string;
  /** Access key id from the SigV4 credential scope (an identity, not a credential). */
  accessKeyId?: string;
  /** The role an STS request assumes, or whose session signed a read (an identity, not a credential). */
  roleArn?: string;
}

export type OutcomeCounts = Record<RequestOutcome, number>;

export interface RequestFilter {
  operation?: RequestRecord['operation'];
  /** Any of these operations, e.g. PARAMETER_STORE_THROUGHPUT_OPERATIONS for what shares one quota. */
  operations?: readonly RequestRecord['operation'][];
  outcome?: RequestOutcome;
  sinceMs?: number;
}

export interface PerSecondBucket extends OutcomeCounts {
  /** Epoch second the bucket starts at. */
  second: number;
  secrets: number;
}

export function filterRequests(records: readonly RequestRecord[], filter: RequestFilter = {}): RequestRecord[] {
  return records.filter(
    (r) =>
      (filter.operation === undefined || r.operation === filter.operation) &&
      (filter.operations === undefined || filter.operations.includes(r.operation)) &&
      (filter.outcome === undefined || r.outcome === filter.outcome) &&
      (filter.sinceMs === undefined || r.atMs >= filter.sinceMs),
  );
}

/** Counts by operation and outcome. */
export function countRequests(records: readonly RequestRecord[]): Record<string, OutcomeCounts> {
  const counts: Record<string, OutcomeCounts> = {};
  for (const r of records) {
    const c = (counts[r.operation] ??= { ok: 0, throttled: 0, error: 0 });
    c[r.outcome] += 1;
  }
  return counts;
}

/** One bucket per second from the first record's second to the last one's, gaps included
 * (a flat line has zeros in it; that is what the bench needs to see). */
export function requestsPerSecond(records: readonly RequestRecord[], filter: RequestFilter = {}): PerSecondBucket[] {
  const selected = filterRequests(records, filter);
  if (selected.length === 0) return [];
  let first = Infinity;
  let last = -Infinity;
  for (const r of selected) {
    const s = Math.floor(r.atMs / 1000);
    if (s < first) first = s;
    if (s > last) last = s;
  }
  const buckets: PerSecondBucket[] = Array.from({ length: last - first + 1 }, (_, i) => ({
    second: first + i,
    ok: 0,
    throttled: 0,
    error: 0,
    secrets: 0,
  }));
  for (const r of selected) {
    const b = buckets[Math.floor(r.atMs / 1000) - first]!;
    b[r.outcome] += 1;
    b.secrets += r.secrets;
  }
  return buckets;
}
