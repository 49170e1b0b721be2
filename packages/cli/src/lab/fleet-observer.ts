// Watches the storm's ExternalSecrets on the API server and records what a user would see:
// when each became Ready, and every sync (each change of status.refreshTime). The watch is
// the only source: no figure depends on a controller's own account of what it did.
import { Watch, type KubeConfig, CustomObjectsApi } from '@kubernetes/client-node';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, externalSecretsPath, PLURALS } from '@herdless/core';

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

type EsList = { metadata?: { resourceVersion?: string; continue?: string }; items: EsObject[] };

export interface FleetObserverOptions {
  /** Objects per list page (default 500). */
  pageSize?: number;
  /** Asks the server to end each watch after this long (default: the server's own, 30–60 min). */
  watchTimeoutSeconds?: number;
}

export class FleetObserver {
  readonly records = new Map<string, FleetRecord>();
  readyCount = 0;
  /** Lists made (each of one or more pages) and watches opened, for the observer's own test. */
  lists = 0;
  pages = 0;
  watches = 0;
  private abort?: AbortController;
  private stopped = false;
  private readonly path: string;

  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
    private readonly opts: FleetObserverOptions = {},
  ) {
    this.path = externalSecretsPath(PLURALS.ExternalSecret, namespace);
  }

  async start(): Promise<void> {
    const resourceVersion = await this.listAll();
    this.watchFrom(resourceVersion);
  }

  /**
   * Lists in pages and observes each item; returns the list's resourceVersion. Pages keep a
   * relist of 100,000 objects from holding the lab's event loop (where the AWS endpoint answers)
   * for seconds, as one list of them all did.
   */
  private async listAll(): Promise<string | undefined> {
    const api = this.kc.makeApiClient(CustomObjectsApi);
    let cont: string | undefined;
    this.lists++;
    for (;;) {
      const page = await this.listPage(api, cont);
      this.pages++;
      for (const item of page.items) this.observe(item);
      cont = page.metadata?.continue || undefined;
      if (!cont) return page.metadata?.resourceVersion;
    }
  }

  /** A CRD just Established answers 429 "storage is (re)initializing" for a moment: retry that. */
  private async listPage(api: CustomObjectsApi, cont: string | undefined): Promise<EsList> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await api.listNamespacedCustomObject({
          group: EXTERNAL_SECRETS_GROUP,
          version: EXTERNAL_SECRETS_VERSION,
          plural: PLURALS.ExternalSecret,
          namespace: this.namespace,
          limit: this.opts.pageSize ?? 500,
          ...(cont ? { _continue: cont } : {}),
        })) as EsList;
      } catch (error) {
        if ((error as { code?: number }).code !== 429 || attempt >= 50) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /**
   * Watches from `resourceVersion`. When the server ends the watch (its timeout), the next one
   * starts where it left off, without a list, as does one cut by an error (after 200 ms); only
   * a 410 (too old) or another error event in the stream lists again.
   */
  private watchFrom(resourceVersion: string | undefined): void {
    if (this.stopped) return;
    let relist = resourceVersion === undefined;
    this.watches++;
    const timeoutSeconds = this.opts.watchTimeoutSeconds;
    void new Watch(this.kc)
      .watch(
        this.path,
        { allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}), ...(timeoutSeconds ? { timeoutSeconds } : {}) },
        (phase, obj: EsObject) => {
          if (phase === 'ERROR') {
            relist = true; // a Status (410 Gone or another error); the server ends the watch after it
            return;
          }
          if (phase === 'ADDED' || phase === 'MODIFIED') this.observe(obj);
          resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
        },
        (err: unknown) => {
          if (this.stopped) return;
          if (relist || (err as { statusCode?: number } | null)?.statusCode === 410) {
            this.restart(200);
          } else if (err) {
            // A cut stream or a failed request: watch again from where it was (a 410 then lists).
            setTimeout(() => this.watchFrom(resourceVersion), 200);
          } else {
            this.watchFrom(resourceVersion);
          }
        },
      )
      .then((abort) => {
        this.abort = abort;
        if (this.stopped) abort.abort();
      });
  }

  /** Lists and watches again after `delayMs`; a failed list tries again every second. */
  private restart(delayMs: number): void {
    if (!this.stopped) setTimeout(() => void this.start().catch(() => this.restart(1000)), delayMs);
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
