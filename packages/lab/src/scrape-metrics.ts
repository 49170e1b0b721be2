// The /metrics text of processes the lab or a test started, each serving Prometheus on a
// loopback port (`--metrics-port`); read back with core's mergeHistograms.

/**
 * Each port's /metrics text, in the order of the ports; a non-200 answer is an error. With
 * `names`, only those families (core's `/metrics?name=`), rendered in that order.
 */
export async function scrapeLoopbackMetrics(ports: readonly number[], timeoutMs = 10_000, names: readonly string[] = []): Promise<string[]> {
  const query = names.length === 0 ? '' : `?${names.map((name) => `name=${encodeURIComponent(name)}`).join('&')}`;
  return Promise.all(
    ports.map(async (port) => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics${query}`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`GET 127.0.0.1:${port}/metrics answered ${res.status}`);
      return res.text();
    }),
  );
}
