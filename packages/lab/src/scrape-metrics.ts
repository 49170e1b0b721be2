// The /metrics text of processes the lab or a test started, each serving Prometheus on a
// loopback port (`--metrics-port`); read back with core's mergeHistograms.

/** Each port's /metrics text, in the order of the ports; a non-200 answer is an error. */
export async function scrapeLoopbackMetrics(ports: readonly number[], timeoutMs = 10_000): Promise<string[]> {
  return Promise.all(
    ports.map(async (port) => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`GET 127.0.0.1:${port}/metrics answered ${res.status}`);
      return res.text();
    }),
  );
}
