// Prometheus metrics shared across processes (prom-client's default registry) and the server
// on the metrics port: /metrics, /healthz and /readyz (health.ts). Labels are identities
// (provider key, outcome), never values.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, register } from 'prom-client';
import { EventLoopWatch, liveness, readiness, type HealthReport, type LoopWatchOptions } from './health.js';

export { Counter, Gauge, Histogram, register as metricsRegistry } from 'prom-client';

export const informerRestarts = new Counter({
  name: 'herdless_informer_restarts_total',
  help: 'Informer restarts after a watch or list error.',
  labelNames: ['informer'],
});

let defaultsCollected = false;

export interface MetricsServerOptions {
  /** The event loop watch behind /healthz (its stall threshold). */
  loop?: LoopWatchOptions;
}

/**
 * The exposition text: every family, or with `?name=a&name=b` only those, rendered in that order
 * (a family whose collect sets others, as nodejs_eventloop_lag_seconds sets the lag's max, comes
 * first). A worker holds three series per ExternalSecret with ESO's object metrics; a probe that
 * reads four families once a second need not make it render them all.
 */
async function renderMetrics(url: string): Promise<string> {
  const names = new URLSearchParams(url.split('?')[1] ?? '').getAll('name');
  if (names.length === 0) return register.metrics();
  let text = '';
  for (const name of names) if (register.getSingleMetric(name)) text += `${await register.getSingleMetricAsString(name)}\n`;
  return text;
}

/** Serves /metrics, /healthz and /readyz on the port (0 = disabled). Returns the server to close on shutdown. */
export function startMetricsServer(port: number, opts: MetricsServerOptions = {}): Server | undefined {
  if (port === 0) return undefined;
  if (!defaultsCollected) {
    collectDefaultMetrics();
    defaultsCollected = true;
  }
  const loop = new EventLoopWatch(opts.loop).start();
  const answer = (res: ServerResponse, r: HealthReport) =>
    res.writeHead(r.ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(r.body);
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz' || path === '/livez') return answer(res, liveness(loop));
    if (path === '/readyz') {
      readiness().then(
        (r) => answer(res, r),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    renderMetrics(req.url ?? '').then(
      (body) => res.writeHead(200, { 'content-type': register.contentType }).end(body),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  server.on('close', () => loop.stop());
  server.listen(port, '0.0.0.0');
  return server;
}
