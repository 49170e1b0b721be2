// Prometheus metrics shared across processes (prom-client's default registry) and the
// /metrics endpoint. Labels are identities (provider key, outcome), never values.
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, register } from 'prom-client';

export { Counter, Gauge, Histogram, register as metricsRegistry } from 'prom-client';

export const informerRestarts = new Counter({
  name: 'herdless_informer_restarts_total',
  help: 'Informer restarts after a watch or list error.',
  labelNames: ['informer'],
});

let defaultsCollected = false;

/**
 * Serves /metrics, /healthz and /readyz on the port (0 = disabled). Returns the server to close
 * on shutdown. The health paths answer 200 while the event loop runs (the chart's probes); they
 * do not yet look at informers or Redis.
 */
export function startMetricsServer(port: number): Server | undefined {
  if (port === 0) return undefined;
  if (!defaultsCollected) {
    collectDefaultMetrics();
    defaultsCollected = true;
  }
  const server = createServer((req, res) => {
    if (req.url === '/healthz' || req.url === '/readyz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    register.metrics().then(
      (body) => res.writeHead(200, { 'content-type': register.contentType }).end(body),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  server.listen(port, '0.0.0.0');
  return server;
}
