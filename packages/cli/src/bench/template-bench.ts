// herdless bench template: what ESO's template engine (WebAssembly, in the worker's threads)
// costs. The process's one-off start (read, cap and compile the module, instantiate it in each
// thread) and the cost of one call, p50 and p90, for a few shapes of template, one call at a
// time (the wall time a sync waits) and with as many calls in flight as the engine has threads.
import { performance } from 'node:perf_hooks';
import { parseExternalSecret } from '@herdless/core';
import { renderTemplate, shapeDataFrom, TemplateEngine } from '@herdless/worker';

export interface TemplateBenchRow {
  shape: string;
  calls: number;
  p50Micros: number;
  p90Micros: number;
}

export interface TemplateBench {
  enginePath: string;
  threads: number;
  startMs: number;
  rows: TemplateBenchRow[];
  /** Calls a second with every thread busy (the ceiling of one worker process). */
  parallelCallsPerSecond: number;
}

const bytes = (s: string) => new Uint8Array(Buffer.from(s));
const data = { user: bytes('admin'), pass: bytes('s3cr3t-password'), cfg: bytes('{"host":"db","port":5432}') };
const noSources = { configMaps: {}, secrets: {} };

const shapes: Array<[string, (engine: TemplateEngine) => Promise<unknown>]> = [
  ['one placeholder', (e) => renderTemplate(e, { namespace: 'ns', template: { data: { k: '{{ .user }}' } }, data, sources: noSources })],
  [
    'sprig pipeline + fromJson, labels',
    (e) =>
      renderTemplate(e, {
        namespace: 'ns',
        template: { metadata: { labels: { owner: '{{ .user | lower }}' } }, data: { dsn: '{{ $c := .cfg | fromJson }}postgres://{{ .user }}:{{ .pass | urlquery }}@{{ $c.host }}:{{ $c.port }}/app', sum: '{{ .pass | sha256sum }}' } },
        data,
        sources: noSources,
      }),
  ],
  [
    'templateFrom ConfigMap (KeysAndValues)',
    (e) =>
      renderTemplate(e, {
        namespace: 'ns',
        template: parseExternalSecret({ metadata: { name: 'b', namespace: 'ns' }, spec: { target: { template: { templateFrom: [{ configMap: { name: 'tpl', items: [{ key: 'all', templateAs: 'KeysAndValues' }] } }] } } } }).spec.target.template!,
        data,
        sources: { configMaps: { tpl: { all: 'a: "{{ .user }}"\nb: "{{ .pass | b64enc }}"' } }, secrets: {} },
      }),
  ],
  ['dataFrom rewrite + Base64 decoding (20 keys)', (e) => shapeDataFrom(e, { extract: { key: 'k', decodingStrategy: 'Base64' }, rewrite: [{ regexp: { source: '^(.*)$', target: 'app-$1' } }] }, 0, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`key${i}`, bytes(Buffer.from(`value-${i}`).toString('base64'))])))],
];

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

export async function runTemplateBench(opts: { path: string; threads: number; calls: number }, say: (line: string) => void): Promise<TemplateBench> {
  const started = performance.now();
  const engine = await TemplateEngine.load({ path: opts.path, timeoutMs: 10_000, memoryLimitBytes: 256 * 2 ** 20, threads: opts.threads });
  const startMs = Math.round(performance.now() - started);
  say(`bench template: engine started in ${startMs} ms (${opts.threads} thread(s)); ${opts.calls} calls per shape`);
  try {
    const rows: TemplateBenchRow[] = [];
    for (const [shape, call] of shapes) {
      for (let i = 0; i < 50; i++) await call(engine); // warm-up: V8 tiers the module up
      const micros: number[] = [];
      for (let i = 0; i < opts.calls; i++) {
        const t0 = performance.now();
        await call(engine);
        micros.push((performance.now() - t0) * 1000);
      }
      micros.sort((a, b) => a - b);
      rows.push({ shape, calls: opts.calls, p50Micros: Math.round(quantile(micros, 0.5)), p90Micros: Math.round(quantile(micros, 0.9)) });
    }
    const t0 = performance.now();
    const inFlight = opts.threads * 4;
    const total = opts.calls;
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next++ < total) await shapes[1]![1](engine);
      }),
    );
    const parallelCallsPerSecond = Math.round(total / ((performance.now() - t0) / 1000));
    return { enginePath: opts.path, threads: opts.threads, startMs, rows, parallelCallsPerSecond };
  } finally {
    await engine.close();
  }
}

export function formatTemplateBench(b: TemplateBench): string {
  const lines = [`template engine (ESO v0.20.4 as WebAssembly, ${b.threads} thread(s)): start ${b.startMs} ms; per call, one at a time:`];
  for (const r of b.rows) lines.push(`  ${r.shape.padEnd(44)} p50 ${r.p50Micros} µs, p90 ${r.p90Micros} µs (${r.calls} calls)`);
  lines.push(`  all threads busy (sprig pipeline): ${b.parallelCallsPerSecond} calls/s`);
  return lines.join('\n');
}
