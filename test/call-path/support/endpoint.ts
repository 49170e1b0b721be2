// Our AWS endpoint in its own process (`herdless aws-endpoint --port 0`), driven through its
// control API. These tests judge per-second rates by the endpoint's request log, whose clock is
// the endpoint's event loop: inside the test runner that loop was measured stalling for 1.7 s
// on a busy 2-core machine, and the requests queued behind a stall were then logged as one
// burst. In a process of its own the log records arrivals, not the test runner's pauses.
import type { AwsFaultsState, RequestFilter, RequestRecord } from '@herdless/lab';
import { spawnHerdless, type HerdlessProcess } from '../../e2e/support/processes.js';
import { waitUntil } from '../../support/index.js';
import { mapLimit } from './fleet.js';

export interface SpawnedAwsEndpoint {
  url: string;
  region: string;
  process: HerdlessProcess;
  putSecrets(secrets: Array<{ name: string; secretString: string }>): Promise<void>;
  putParameters(parameters: Array<{ name: string; value: string; type?: 'String' | 'SecureString' }>): Promise<void>;
  setQuota(quotaOrOperation: string, rps: number, burst?: number): Promise<void>;
  faults(update: Record<string, unknown>): Promise<AwsFaultsState>;
  requests(filter?: RequestFilter): Promise<RequestRecord[]>;
  resetRequests(): Promise<void>;
  stop(): Promise<void>;
}

export async function spawnAwsEndpoint(): Promise<SpawnedAwsEndpoint> {
  const proc = spawnHerdless('aws-endpoint', ['aws-endpoint', '--port', '0']);
  let url: string;
  try {
    url = await waitUntil(() => /AWS endpoint listening on (http:\/\/[^\s]+)/.exec(proc.output())?.[1], {
      what: '"AWS endpoint listening on <url>" from herdless aws-endpoint',
      timeoutMs: 10_000,
      intervalMs: 50,
      lastSeen: () => proc.output().slice(0, 500),
    });
  } catch (e) {
    await proc.stop();
    throw e;
  }
  const base = url;
  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}/_herdless/${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} /_herdless/${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
  return {
    url: base,
    region: 'us-east-1',
    process: proc,
    async putSecrets(secrets) {
      await mapLimit(secrets, 16, (s) => control('POST', 'secrets', s));
    },
    async putParameters(parameters) {
      await mapLimit(parameters, 16, (p) => control('POST', 'parameters', p));
    },
    async setQuota(quota, rps, burst) {
      await control('PUT', 'quota', { quota, rps, ...(burst === undefined ? {} : { burst }) });
    },
    faults: (update) => control<AwsFaultsState>('PUT', 'faults', update),
    async requests(filter = {}) {
      const q = new URLSearchParams({ records: '1' });
      if (filter.operation) q.set('operation', filter.operation);
      if (filter.operations) q.set('operations', filter.operations.join(','));
      if (filter.outcome) q.set('outcome', filter.outcome);
      if (filter.sinceMs !== undefined) q.set('sinceMs', String(filter.sinceMs));
      return (await control<{ records: RequestRecord[] }>('GET', `requests?${q}`)).records;
    },
    async resetRequests() {
      await control('DELETE', 'requests');
    },
    stop: () => proc.stop(),
  };
}

/** Epoch-second buckets (gaps included, as the endpoint's requestsPerSecond has them). */
export function perSecond(records: readonly RequestRecord[]): Array<{ second: number; ok: number; throttled: number; error: number }> {
  if (records.length === 0) return [];
  const seconds = records.map((r) => Math.floor(r.atMs / 1000));
  const first = Math.min(...seconds);
  const last = Math.max(...seconds);
  const buckets = Array.from({ length: last - first + 1 }, (_, i) => ({ second: first + i, ok: 0, throttled: 0, error: 0 }));
  for (const r of records) buckets[Math.floor(r.atMs / 1000) - first]![r.outcome] += 1;
  return buckets;
}

/** The largest epoch-second total and the throttled count. */
export function peakOf(records: readonly RequestRecord[]): { peak: number; throttled: number } {
  const buckets = perSecond(records);
  return { peak: Math.max(0, ...buckets.map((b) => b.ok + b.throttled + b.error)), throttled: buckets.reduce((n, b) => n + b.throttled, 0) };
}
