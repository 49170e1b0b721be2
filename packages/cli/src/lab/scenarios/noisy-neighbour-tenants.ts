// The noisy-neighbour scenario's other tenants: namespaces tenant-b … tenant-e, each with its own
// SecretStore on the same AWS account and Region as the storm's (one provider key, one quota),
// each creating one ExternalSecret every 2 s while tenant A's storm runs (staggered, so one
// arrives every 0.5 s). Their create-to-Ready is the figure: it should not depend on A's storm.
import { waitUntil } from '@herdless/lab';
import type { KubeConfig } from '@kubernetes/client-node';
import { createTrickle, prepareNamespaceStore, type StormPlan } from '@herdless/lab';
import { FleetObserver, type FleetRecord } from '../fleet-observer.js';

export const NEIGHBOURS = ['tenant-b', 'tenant-c', 'tenant-d', 'tenant-e'] as const;
/** Each neighbour creates one ExternalSecret this often. */
export const NEIGHBOUR_EVERY_MS = 2_000;
const MAX_PER_NEIGHBOUR = 200;

/** The neighbours' namespaces, credentials and stores; `budgetRps` as the storm's store has it. */
export async function prepareNeighbours(kc: KubeConfig, region: string, budgetRps: number | undefined): Promise<void> {
  for (const namespace of NEIGHBOURS) await prepareNamespaceStore(kc, region, namespace, budgetRps);
}

/**
 * Waits until every Herdless process of the contender answers /readyz (the workers load the
 * template engine and list their caches first: 30 s and more on a loaded machine). The figure is
 * what the other tenants wait during A's storm, not the controller's cold start, which the
 * first neighbours' creations would otherwise wait out (seen: p99 72 s at load 24, every second
 * of it in the first 30 s). The real ESO serves no such port here: it is not waited for.
 */
export async function waitForControllerReady(targets: { workerPorts: readonly number[]; schedulerPorts: readonly number[] }, timeoutMs = 180_000): Promise<void> {
  const waiting = new Set([...targets.workerPorts, ...targets.schedulerPorts]);
  await waitUntil(
    async () => {
      for (const port of [...waiting]) {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
        if (res?.ok) waiting.delete(port);
      }
      return waiting.size === 0 ? true : undefined;
    },
    { what: "the contender's processes ready (/readyz)", timeoutMs, intervalMs: 250, lastSeen: () => `not ready on ports ${[...waiting].join(', ')}` },
  );
}

export interface Neighbours {
  /** Stop creating (the storm is over). */
  stop(): void;
  /** "namespace/name" → create time, once every neighbour has stopped. */
  created: Promise<Map<string, number>>;
  /** Ready yet, by "namespace/name". */
  isReady(key: string): boolean;
  /** The storm's records and the neighbours' ("namespace/name"), for the figures. */
  records(storm: ReadonlyMap<string, FleetRecord>): Map<string, FleetRecord>;
  close(): void;
}

/** Starts watching the neighbours and their trickles; they read the storm's remote secrets. */
export async function startNeighbours(kc: KubeConfig, plan: StormPlan, refreshInterval: string): Promise<Neighbours> {
  const observers = NEIGHBOURS.map((namespace) => ({ namespace, observer: new FleetObserver(kc, namespace) }));
  for (const { observer } of observers) await observer.start();
  let stopped = false;
  const items = plan.items.slice(0, MAX_PER_NEIGHBOUR).map((item, i) => ({ name: `new-${i}`, remoteKey: item.remoteKey }));
  const staggerMs = NEIGHBOUR_EVERY_MS / NEIGHBOURS.length;
  const created = Promise.all(
    NEIGHBOURS.map(async (namespace, i) => {
      await new Promise((r) => setTimeout(r, i * staggerMs));
      const times = await createTrickle(kc, items, refreshInterval, NEIGHBOUR_EVERY_MS, () => stopped, namespace);
      return [...times].map(([name, at]) => [`${namespace}/${name}`, at] as const);
    }),
  ).then((all) => new Map(all.flat()));
  const recordOf = (key: string): FleetRecord | undefined => {
    const [namespace, name] = key.split('/') as [string, string];
    return observers.find((o) => o.namespace === namespace)?.observer.records.get(name);
  };
  return {
    stop: () => {
      stopped = true;
    },
    created,
    isReady: (key) => recordOf(key)?.readyAt !== undefined,
    records: (storm) => {
      const all = new Map(storm);
      for (const { namespace, observer } of observers) for (const [name, rec] of observer.records) all.set(`${namespace}/${name}`, rec);
      return all;
    },
    close: () => {
      for (const { observer } of observers) observer.stop();
    },
  };
}
