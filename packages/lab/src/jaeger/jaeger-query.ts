// Jaeger's query API (the JSON HTTP API its UI uses: /api/services, /api/traces, /api/traces/{id})
// read back as plain spans: which process (service) emitted each, its parent, its attributes and
// its events. For tests that walk a stored trace and for scans of everything a run exported.
import { httpGet } from '../control-plane/http-probe.js';

export interface StoredSpan {
  traceId: string;
  spanId: string;
  /** The CHILD_OF reference's span, if any. */
  parentSpanId?: string;
  name: string;
  /** service.name of the process that emitted it. */
  service: string;
  startTimeUs: number;
  durationUs: number;
  attributes: Record<string, unknown>;
  /** Span events: each one's fields (the event name under "event"). */
  events: Array<Record<string, unknown>>;
}

export interface StoredTrace {
  traceId: string;
  spans: StoredSpan[];
}

interface JaegerKeyValue {
  key: string;
  value: unknown;
}

interface JaegerTraceJson {
  traceID: string;
  spans: Array<{
    traceID: string;
    spanID: string;
    operationName: string;
    references?: Array<{ refType: string; traceID: string; spanID: string }>;
    startTime: number;
    duration: number;
    tags?: JaegerKeyValue[];
    logs?: Array<{ timestamp: number; fields: JaegerKeyValue[] }>;
    processID: string;
  }>;
  processes: Record<string, { serviceName: string }>;
}

const fields = (kvs: JaegerKeyValue[] | undefined) => Object.fromEntries((kvs ?? []).map((kv) => [kv.key, kv.value]));

function spansOf(t: JaegerTraceJson): StoredTrace {
  return {
    traceId: t.traceID,
    spans: t.spans.map((s) => {
      const parent = s.references?.find((r) => r.refType === 'CHILD_OF' && r.traceID === s.traceID);
      return {
        traceId: s.traceID,
        spanId: s.spanID,
        ...(parent ? { parentSpanId: parent.spanID } : {}),
        name: s.operationName,
        service: t.processes[s.processID]?.serviceName ?? '',
        startTimeUs: s.startTime,
        durationUs: s.duration,
        attributes: fields(s.tags),
        events: (s.logs ?? []).map((l) => fields(l.fields)),
      };
    }),
  };
}

export class JaegerQuery {
  constructor(readonly baseUrl: string) {}

  private async get<T>(path: string): Promise<T> {
    const { status, body } = await httpGet(`${this.baseUrl}${path}`, undefined, 30_000);
    if (status !== 200) throw new Error(`GET ${path} from Jaeger answered ${status}: ${body.slice(0, 200)}`);
    return (JSON.parse(body) as { data: T }).data;
  }

  /** Services that have sent spans. */
  services(): Promise<string[]> {
    return this.get<string[] | null>('/api/services').then((s) => s ?? []);
  }

  /** Stored traces with spans from `service` (newest first, up to `limit`, at most the storage's 100,000), optionally with a span named `operation`. */
  async traces(service: string, opts: { operation?: string; limit?: number; tags?: Record<string, string>; sinceMs?: number; untilMs?: number } = {}): Promise<StoredTrace[]> {
    const q = new URLSearchParams({ service, limit: String(opts.limit ?? 1_000), lookback: 'custom', start: String((opts.sinceMs ?? Date.now() - 3_600_000) * 1_000) });
    if (opts.untilMs !== undefined) q.set('end', String(opts.untilMs * 1_000));
    if (opts.operation) q.set('operation', opts.operation);
    if (opts.tags) q.set('tags', JSON.stringify(opts.tags));
    return (await this.get<JaegerTraceJson[] | null>(`/api/traces?${q}`) ?? []).map(spansOf);
  }

  /** One trace by id, whole (every process's spans). */
  async trace(traceId: string): Promise<StoredTrace | undefined> {
    const found = await this.get<JaegerTraceJson[] | null>(`/api/traces/${traceId}`).catch(() => null);
    return found?.[0] ? spansOf(found[0]) : undefined;
  }

  /** The raw JSON of every stored trace of every service: what a leak scan searches. */
  async exportedText(): Promise<string> {
    const out: string[] = [];
    for (const service of await this.services()) {
      const path = `/api/traces?${new URLSearchParams({ service, limit: '100000', lookback: 'custom', start: String((Date.now() - 24 * 3_600_000) * 1_000) })}`;
      const { status, body } = await httpGet(`${this.baseUrl}${path}`, undefined, 60_000);
      if (status !== 200) throw new Error(`GET ${path} from Jaeger answered ${status}: ${body.slice(0, 200)}`);
      out.push(body);
    }
    return out.join('\n');
  }

  /** The UI's page of one trace. */
  traceUrl(traceId: string): string {
    return `${this.baseUrl}/trace/${traceId}`;
  }
}
