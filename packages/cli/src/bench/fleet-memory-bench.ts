// herdless bench fleet-memory: what Herdless's processes hold in memory for a fleet. For each
// fleet size (none, then --fleet-memory-count ExternalSecrets), a fresh world: the fleet is created
// first, then the scheduler and the workers start, and once every process answers /readyz (its
// informers have listed the whole fleet) each one's resident set is read. The difference between
// the two sizes is what the fleet costs; per 10,000 ExternalSecrets, the figure the issue asks.
// The store's budget is 1 call a second, so the syncs running meanwhile add next to nothing.
import { createStorm, LAB_NAMESPACE, planStorm, prepareStore, waitUntil } from '@herdless/lab';
import { startContenderWorld } from '../lab/contender-world.js';
import { createController } from '../lab/contenders.js';
import type { LabSettings } from '../lab/lab-config.js';

export interface FleetMemoryRow {
  /** ExternalSecrets in the fleet. */
  count: number;
  /** Seconds from the processes' start until every one answered /readyz. */
  readySeconds: number;
  processes: Array<{ name: string; rssBytes: number; peakRssBytes: number }>;
}

export interface FleetMemoryBench {
  rows: FleetMemoryRow[];
  /** Per process name (scheduler, worker-1 …, redis-server): RSS at the larger fleet minus at none, per 10,000. */
  rssBytesPer10000: Record<string, number>;
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
    const processes = world.usage.residentNow().map((p) => ({ ...p, name: roleOf(p.name) })).filter((p) => /^(scheduler|worker|redis-server)/.test(p.name));
    return { count, readySeconds, processes };
  } finally {
    await controller.close().catch(() => undefined);
    await world.stop();
  }
}

export async function runFleetMemoryBench(settings: LabSettings, count: number, say: (line: string) => void): Promise<FleetMemoryBench> {
  const rows = [await measure(settings, 0, say), await measure(settings, count, say)];
  const [empty, full] = rows as [FleetMemoryRow, FleetMemoryRow];
  const rssBytesPer10000: Record<string, number> = {};
  for (const p of full.processes) {
    const base = empty.processes.find((e) => e.name === p.name);
    if (base) rssBytesPer10000[p.name] = Math.round(((p.rssBytes - base.rssBytes) * 10_000) / count);
  }
  return { rows, rssBytesPer10000 };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export function formatFleetMemoryBench(bench: FleetMemoryBench): string {
  const lines = ['fleet memory (resident set once every process answered /readyz: its informers have listed the fleet):'];
  for (const row of bench.rows) {
    lines.push(`  ${row.count.toLocaleString('en-US')} ExternalSecrets (ready after ${row.readySeconds} s): ${row.processes.map((p) => `${p.name} ${mib(p.rssBytes)} (peak ${mib(p.peakRssBytes)})`).join(', ')}`);
  }
  const per = Object.entries(bench.rssBytesPer10000);
  const total = per.reduce((s, [, v]) => s + v, 0);
  lines.push(`  RSS per 10,000 ExternalSecrets: ${per.map(([name, v]) => `${name} ${mib(v)}`).join(', ')}; all together ${mib(total)}`);
  return lines.join('\n');
}
