// herdless bench fleet-memory: what Herdless's processes hold in memory for a fleet. For each
// fleet size (none, then --fleet-memory-count ExternalSecrets), a fresh world: the fleet is created
// first, then the scheduler and the workers start, and once every process answers /readyz (its
// informers have listed the whole fleet) each one's resident set is read. The difference between
// the two sizes is what the fleet costs; per 10,000 ExternalSecrets, the figure the issue asks.
// The store's budget is 1 call a second, so the syncs running meanwhile add next to nothing.
// The fleet is one that has synced once, as a restarted controller finds it: before the processes
// start, each ExternalSecret's target Secret is written and its status marked synced by the
// worker's own functions (applySecret, markSynced), so each object carries what the API server
// keeps after a sync (a status writer's managedFields entry, a Secret with data) and the
// processes start on refreshes an hour away.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { createLogger, EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, kubeClients, parseExternalSecret, PLURALS } from '@herdless/core';
import { createStorm, LAB_NAMESPACE, planStorm, prepareStore, waitUntil, type StormPlan } from '@herdless/lab';
import { applySecret, markSynced } from '@herdless/worker';
import { startContenderWorld } from '../lab/contender-world.js';
import { measureCacheFootprint, type CacheFootprint } from './cache-footprint.js';
import { createController } from '../lab/contenders.js';
import type { LabSettings } from '../lab/lab-config.js';

export interface FleetMemoryRow {
  /** ExternalSecrets in the fleet. */
  count: number;
  /** Seconds from the processes' start until every one answered /readyz. */
  readySeconds: number;
  /** heapUsedBytes: the main thread's V8 heap in use (its /metrics), where the caches live; garbage not yet collected included. */
  processes: Array<{ name: string; rssBytes: number; peakRssBytes: number; heapUsedBytes?: number }>;
  /** The informer caches alone, measured in the bench's process (cache-footprint.ts); with a fleet only. */
  caches?: CacheFootprint[];
}

export interface FleetMemoryBench {
  rows: FleetMemoryRow[];
  /** Per process name (scheduler, worker-1 …, redis-server): RSS at the larger fleet minus at none, per 10,000. */
  rssBytesPer10000: Record<string, number>;
  /** Likewise for the V8 heap in use: a worker's resident set also holds its template threads' WebAssembly memory, which varies by tens of MiB from start to start. */
  heapUsedBytesPer10000: Record<string, number>;
}

/** What one sync of each ExternalSecret leaves behind (see the header); 32 at a time, as createStorm. Seconds taken. */
export async function syncFleetOnce(kc: KubeConfig, plan: StormPlan): Promise<number> {
  const started = Date.now();
  const kube = kubeClients(kc);
  const custom = kc.makeApiClient(CustomObjectsApi);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < plan.items.length) {
        const item = plan.items[next++]!;
        const raw = await custom.getNamespacedCustomObject({ group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ExternalSecret, namespace: LAB_NAMESPACE, name: item.name });
        const es = parseExternalSecret(raw);
        const data = { password: Buffer.from(`lab-${item.name}-${item.remoteKey}`).toString('base64') };
        const applied = await applySecret(kube, es, { type: 'Opaque', data, labels: {}, annotations: {}, immutable: false });
        await markSynced(kube, es, new Date(), undefined, applied);
      }
    }),
  );
  return Math.round((Date.now() - started) / 100) / 10;
}

const roleOf = (name: string) => name.replace(/^(scheduler|worker)-\d+-(\d+)$/, '$1-$2');

async function measure(settings: LabSettings, count: number, say: (line: string) => void): Promise<FleetMemoryRow> {
  const world = await startContenderWorld({ redis: true, say });
  const controller = createController({ kind: 'herdless', label: 'herdless' }, { ...settings, count, remoteSecrets: Math.max(1, count) }, world);
  try {
    const kc = world.controlPlane.kubeConfig();
    await world.aws.setQuota('GetSecretValue', 1, 1);
    await world.aws.setQuota('BatchGetSecretValue', 1, 1);
    const plan = planStorm(count, Math.max(1, count), settings.seed);
    await prepareStore(kc, world.aws, plan, 1);
    say(`fleet-memory: creating ${count} ExternalSecrets in namespace ${LAB_NAMESPACE}`);
    await createStorm(kc, plan, '1h');
    const syncedSeconds = await syncFleetOnce(kc, plan);
    say(`fleet-memory: every target Secret written and status marked synced in ${syncedSeconds} s`);
    const started = Date.now();
    await controller.start();
    const { workerPorts, schedulerPorts } = controller.probeTargets();
    const ready = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))?.status === 200;
    await waitUntil(async () => ((await Promise.all([...schedulerPorts, ...workerPorts].map(ready))).every(Boolean) ? true : undefined), {
      what: 'every Herdless process to answer /readyz',
      timeoutMs: settings.timeoutMs,
      intervalMs: 100,
    });
    const readySeconds = Math.round((Date.now() - started) / 100) / 10;
    const heaps = new Map<string, number | undefined>();
    await Promise.all([
      ...schedulerPorts.map(async (port, i) => heaps.set(`scheduler-${i + 1}`, await heapUsedOf(port))),
      ...workerPorts.map(async (port, i) => heaps.set(`worker-${i + 1}`, await heapUsedOf(port))),
    ]);
    const processes = world.usage
      .residentNow()
      .map((p) => {
        const name = roleOf(p.name);
        const heapUsedBytes = heaps.get(name);
        return { ...p, name, ...(heapUsedBytes === undefined ? {} : { heapUsedBytes }) };
      })
      .filter((p) => /^(scheduler|worker|redis-server)/.test(p.name));
    if (count === 0) return { count, readySeconds, processes };
    say('fleet-memory: measuring one informer cache of the fleet, trimmed and whole, in this process');
    return { count, readySeconds, processes, caches: await measureCacheFootprint(kc, createLogger('fleet-memory', 'warn')) };
  } finally {
    await controller.close().catch(() => undefined);
    await world.stop();
  }
}

export async function runFleetMemoryBench(settings: LabSettings, count: number, say: (line: string) => void): Promise<FleetMemoryBench> {
  const rows = [await measure(settings, 0, say), await measure(settings, count, say)];
  const [empty, full] = rows as [FleetMemoryRow, FleetMemoryRow];
  const rssBytesPer10000: Record<string, number> = {};
  const heapUsedBytesPer10000: Record<string, number> = {};
  for (const p of full.processes) {
    const base = empty.processes.find((e) => e.name === p.name);
    if (base) rssBytesPer10000[p.name] = Math.round(((p.rssBytes - base.rssBytes) * 10_000) / count);
    if (p.heapUsedBytes !== undefined && base?.heapUsedBytes !== undefined) heapUsedBytesPer10000[p.name] = Math.round(((p.heapUsedBytes - base.heapUsedBytes) * 10_000) / count);
  }
  return { rows, rssBytesPer10000, heapUsedBytesPer10000 };
}

/** nodejs_heap_size_used_bytes from a process's /metrics (prom-client's default metrics), or undefined. */
export async function heapUsedOf(port: number): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  const match = /^nodejs_heap_size_used_bytes (\S+)$/m.exec((await res?.text()) ?? '');
  return match ? Number(match[1]) : undefined;
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export function formatFleetMemoryBench(bench: FleetMemoryBench): string {
  const lines = ['fleet memory (resident set once every process answered /readyz: its informers have listed the fleet):'];
  for (const row of bench.rows) {
    const heap = (p: FleetMemoryRow['processes'][number]) => (p.heapUsedBytes === undefined ? '' : `, heap ${mib(p.heapUsedBytes)}`);
    lines.push(`  ${row.count.toLocaleString('en-US')} ExternalSecrets (ready after ${row.readySeconds} s): ${row.processes.map((p) => `${p.name} ${mib(p.rssBytes)} (peak ${mib(p.peakRssBytes)}${heap(p)})`).join(', ')}`);
  }
  const line = (what: string, per: Array<[string, number]>) =>
    lines.push(`  ${what} per 10,000 ExternalSecrets: ${per.map(([name, v]) => `${name} ${mib(v)}`).join(', ')}; all together ${mib(per.reduce((s, [, v]) => s + v, 0))}`);
  line('RSS', Object.entries(bench.rssBytesPer10000));
  line('V8 heap in use', Object.entries(bench.heapUsedBytesPer10000 ?? {}));
  for (const row of bench.rows) {
    for (const c of row.caches ?? []) {
      const n = (v: number) => v.toLocaleString('en-US');
      lines.push(
        `  one ${c.cache} cache of ${n(c.objects)}, an object trimmed / whole: ${n(c.trimmedJsonBytes)} / ${n(c.wholeJsonBytes)} bytes of JSON, ${n(c.trimmedBytes)} / ${n(c.wholeBytes)} bytes of heap (${mib(c.trimmedBytes * 10_000)} / ${mib(c.wholeBytes * 10_000)} per 10,000)`,
      );
    }
  }
  return lines.join('\n');
}
