// Watches the storm's ExternalSecrets on the API server and records what a user would see:
// when each became Ready, and every sync (each change of status.refreshTime). The watch is
// the only source: no figure depends on a controller's own account of what it did.
import { Watch, type KubeConfig, CustomObjectsApi } from '@kubernetes/client-node';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS } from '@herdless/core';

interface EsObject {
  metadata: { name: string; resourceVersion?: string };
  status?: { refreshTime?: string; conditions?: Array<{ type: string; status: string }> };
}

export interface FleetRecord {
  /** Epoch ms of the first Ready=True observed. */
  readyAt?: number;
  ready: boolean;
  /** Every status.refreshTime seen, in order (epoch ms, second precision as the API stores it). */
  refreshTimes: number[];
  /** Epoch ms when each refreshTime change was observed. */
  syncObservedAt: number[];
}

export class FleetObserver {
  readonly records = new Map<string, FleetRecord>();
  readyCount = 0;
  private abort?: AbortController;
  private stopped = false;
  private readonly path: string;

  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
  ) {
    this.path = `/apis/${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}/namespaces/${namespace}/${PLURALS.ExternalSecret}`;
  }

  async start(): Promise<void> {
    const list = await this.list();
    for (const item of list.items) this.observe(item);
    await this.watchFrom(list.metadata?.resourceVersion);
  }

  /** A CRD just Established answers 429 "storage is (re)initializing" for a moment: retry that. */
  private async list(): Promise<{ metadata?: { resourceVersion?: string }; items: EsObject[] }> {
    const api = this.kc.makeApiClient(CustomObjectsApi);
    for (let attempt = 0; ; attempt++) {
      try {
        return (await api.listNamespacedCustomObject({
          group: EXTERNAL_SECRETS_GROUP,
          version: EXTERNAL_SECRETS_VERSION,
          plural: PLURALS.ExternalSecret,
          namespace: this.namespace,
        })) as { metadata?: { resourceVersion?: string }; items: EsObject[] };
      } catch (error) {
        if ((error as { code?: number }).code !== 429 || attempt >= 50) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private async watchFrom(resourceVersion: string | undefined): Promise<void> {
    if (this.stopped) return;
    this.abort = await new Watch(this.kc).watch(
      this.path,
      { allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) },
      (phase, obj: EsObject) => {
        if (phase === 'BOOKMARK') {
          resourceVersion = obj.metadata.resourceVersion;
          return;
        }
        if (phase === 'ADDED' || phase === 'MODIFIED') this.observe(obj);
        resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
      },
      () => {
        // Closed by the server (timeout, 410) or by stop(): list again and go on.
        if (!this.stopped) setTimeout(() => void this.start().catch(() => undefined), 200);
      },
    );
  }

  private observe(obj: EsObject): void {
    const now = Date.now();
    const name = obj.metadata.name;
    let rec = this.records.get(name);
    if (!rec) {
      rec = { ready: false, refreshTimes: [], syncObservedAt: [] };
      this.records.set(name, rec);
    }
    const refresh = obj.status?.refreshTime ? Date.parse(obj.status.refreshTime) : undefined;
    if (refresh !== undefined && refresh !== rec.refreshTimes.at(-1)) {
      rec.refreshTimes.push(refresh);
      rec.syncObservedAt.push(now);
    }
    const ready = obj.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    if (ready && rec.readyAt === undefined) rec.readyAt = now;
    if (ready !== rec.ready) this.readyCount += ready ? 1 : -1;
    rec.ready = ready;
  }

  /** Syncs observed so far (all ExternalSecrets). */
  syncCount(): number {
    let n = 0;
    for (const r of this.records.values()) n += r.syncObservedAt.length;
    return n;
  }

  /** True when every named ExternalSecret has a sync observed at or after `sinceMs`. */
  allSyncedSince(names: Iterable<string>, sinceMs: number): boolean {
    for (const name of names) {
      const rec = this.records.get(name);
      if (!rec || !rec.syncObservedAt.some((t) => t >= sinceMs)) return false;
    }
    return true;
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }
}
