import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetricsServer } from './metrics.js';

/** A port nothing listens on right now (the metrics server takes a fixed port, not 0). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('the metrics port', () => {
  let server: Server | undefined;
  let base = '';
  beforeAll(async () => {
    const port = await freePort();
    server = startMetricsServer(port);
    await new Promise<void>((resolve) => (server!.listening ? resolve() : server!.once('listening', () => resolve())));
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it("answers the chart's probes on /healthz and /readyz, serves /metrics, and 404 elsewhere", async () => {
    const status = async (path: string) => (await fetch(base + path)).status;
    expect({ healthz: await status('/healthz'), readyz: await status('/readyz'), metrics: await status('/metrics'), other: await status('/nope') }).toEqual({
      healthz: 200,
      readyz: 200,
      metrics: 200,
      other: 404,
    });
  });

  it('with ?name= serves only the families named, in that order, and skips unknown names', async () => {
    const text = await (await fetch(`${base}/metrics?name=herdless_informer_restarts_total&name=no_such_family&name=nodejs_eventloop_lag_max_seconds`)).text();
    const families = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    expect(families).toEqual(['herdless_informer_restarts_total', 'nodejs_eventloop_lag_max_seconds']);
    // Without names, every family, prom-client's process metrics among them.
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('# TYPE process_cpu_user_seconds_total');
  });

  it('is not served on port 0', () => {
    expect(startMetricsServer(0)).toBeUndefined();
  });
});
