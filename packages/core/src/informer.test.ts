// The resilient informer against a scripted watch endpoint on loopback: each test scripts what
// the "server" answers to lists and watches (500s, 410s, cut streams, hung watches) and
// asserts that the informer's cache ends equal to the server's objects. The real API server
// version of this (1,000 changes through the fault proxy) is test/chaos/informer-under-faults.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetadataInformer, createResilientInformer, LAST_APPLIED_ANNOTATION, PARTIAL_OBJECT_METADATA_ACCEPT, PARTIAL_OBJECT_METADATA_LIST_ACCEPT, type ListPage, type ResilientInformer } from './informer.js';
import { metricsRegistry } from './metrics.js';

type Obj = KubernetesObject & { metadata: { name: string; namespace: string; resourceVersion: string } };
type WatchScript = (req: IncomingMessage, res: ServerResponse, rv: string) => void;

/** A server holding objects at resourceVersions; lists answer them, watches follow `onWatch`. */
class ScriptedServer {
  objects = new Map<string, Obj>();
  rv = 100;
  lists = 0;
  watches: string[] = [];
  listFailures = 0;
  /** "list|watch <Accept header> <labelSelector>" of every request. */
  requests: string[] = [];
  onWatch: WatchScript[] = [];
  private open = new Set<ServerResponse>();
  server!: Server;

  async listen(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  put(name: string): Obj {
    const obj: Obj = { apiVersion: 'v1', kind: 'Thing', metadata: { name, namespace: 'ns', resourceVersion: String(++this.rv) } };
    this.objects.set(name, obj);
    return obj;
  }

  remove(name: string): Obj {
    const obj = { ...this.objects.get(name)!, metadata: { ...this.objects.get(name)!.metadata, resourceVersion: String(++this.rv) } };
    this.objects.delete(name);
    return obj;
  }

  list(): KubernetesListObject<Obj> {
    return { apiVersion: 'v1', kind: 'ThingList', metadata: { resourceVersion: String(this.rv) }, items: [...this.objects.values()] };
  }

  /** With `limit`, one page from `continue` (the index of its first object), as the API server pages. */
  private page(query: URLSearchParams): KubernetesListObject<Obj> {
    const list = this.list();
    const limit = Number(query.get('limit') ?? 0);
    if (!limit) return list;
    const from = Number(query.get('continue') ?? 0);
    const next = from + limit < list.items.length ? String(from + limit) : undefined;
    return { ...list, metadata: { ...list.metadata, ...(next ? { continue: next } : {}) }, items: list.items.slice(from, from + limit) };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${url.searchParams.get('watch') === 'true' ? 'watch' : 'list'} ${req.headers.accept} ${url.searchParams.get('labelSelector')}`);
    if (url.searchParams.get('watch') !== 'true') {
      this.lists++;
      if (this.listFailures > 0) {
        this.listFailures--;
        res.writeHead(500).end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.page(url.searchParams)));
      return;
    }
    const rv = url.searchParams.get('resourceVersion') ?? '';
    this.watches.push(rv);
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
    const script = this.onWatch.shift();
    if (script) return script(req, res, rv);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
  }

  /** Sends an event on every open watch. */
  send(type: string, object: unknown): void {
    for (const res of this.open) res.write(`${JSON.stringify({ type, object })}\n`);
  }

  cutAll(): void {
    for (const res of this.open) res.socket?.destroy();
  }

  async close(): Promise<void> {
    this.cutAll();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const logger = pino({ level: 'silent' });
let server: ScriptedServer;
let informer: ResilientInformer<Obj> | undefined;

afterEach(async () => {
  await informer?.stop();
  informer = undefined;
  await server?.close();
});

function kubeConfigFor(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function startInformer(extra: { watchTimeoutSeconds?: number; watchGraceMs?: number; keep?: (o: Obj) => boolean; listPageSize?: number } = {}, afterList?: (page: ListPage) => Promise<void>) {
  server = new ScriptedServer();
  const url = await server.listen();
  const kc = kubeConfigFor(url);
  const list = async (page: ListPage) => {
    const res = await fetch(`${url}/things?limit=${page.limit}&continue=${page.continue ?? ''}`);
    if (!res.ok) throw Object.assign(new Error(`list failed: ${res.status}`), { statusCode: res.status });
    const body = (await res.json()) as KubernetesListObject<Obj>;
    await afterList?.(page);
    return body;
  };
  const events: string[] = [];
  return {
    events,
    make: () => {
      informer = createResilientInformer<Obj>({ kc, name: `test-${Math.random()}`, path: '/things', list, logger, initialBackoffMs: 10, maxBackoffMs: 50, ...extra });
      informer.on('add', (o) => events.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`));
      informer.on('update', (o) => events.push(`update ${o.metadata.name}@${o.metadata.resourceVersion}`));
      informer.on('delete', (o) => events.push(`delete ${o.metadata.name}`));
      return informer;
    },
  };
}

function cacheState(inf: ResilientInformer<Obj>): string[] {
  return inf.list().map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
}

function serverState(): string[] {
  return [...server.objects.values()].map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
}

async function eventually(check: () => void, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('createResilientInformer', () => {
  it('delivers the first list, then watch events, from the list resourceVersion', async () => {
    const t = await startInformer();
    server.put('a');
    const inf = t.make();
    await inf.start();
    await inf.synced();
    expect(cacheState(inf)).toEqual(['a@101']);
    await eventually(() => expect(server.watches).toEqual(['101']));
    const b = server.put('b');
    server.send('ADDED', b);
    await eventually(() => expect(cacheState(inf)).toEqual(serverState()));
    expect(t.events).toEqual(['add a@101', 'add b@102']);
    expect(inf.restarts()).toBe(0);
  });

  it('lists page by page, following continue until the last page, and trims every object', async () => {
    server = new ScriptedServer();
    const url = await server.listen();
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const obj = server.put(name);
      obj.metadata = { ...obj.metadata, managedFields: [{ manager: 'kubectl' }], annotations: { [LAST_APPLIED_ANNOTATION]: '{}', team: 't' } } as Obj['metadata'];
    }
    const pages: string[] = [];
    const list = async (page: ListPage) => {
      pages.push(`${page.limit}/${page.continue ?? ''}`);
      return (await (await fetch(`${url}/things?limit=${page.limit}&continue=${page.continue ?? ''}`)).json()) as KubernetesListObject<Obj>;
    };
    informer = createResilientInformer<Obj>({ kc: kubeConfigFor(url), name: 'test-pages', path: '/things', list, listPageSize: 2, logger });
    await informer.start();
    await informer.synced();
    expect(pages).toEqual(['2/', '2/2', '2/4']);
    expect(cacheState(informer)).toEqual(serverState());
    expect(informer.get('e', 'ns')?.metadata).toEqual({ name: 'e', namespace: 'ns', resourceVersion: '105', annotations: { team: 't' } });
  });

  it('keeps going after a 500 on the watch (where the client informer stops for good) and relists', async () => {
    const t = await startInformer();
    server.put('a');
    server.onWatch.push((_req, res) => res.writeHead(500).end('{}'));
    const inf = t.make();
    await inf.start();
    // Changes while the informer was between watches reach it through the relist.
    server.put('b');
    server.remove('a');
    await eventually(() => expect(cacheState(inf)).toEqual(serverState()));
    expect(inf.restarts()).toBe(1);
    expect(server.lists).toBe(2);
    expect(t.events).toEqual(['add a@101', 'delete a', 'add b@102']);
    const metrics = await metricsRegistry.getSingleMetricAsString('herdless_informer_restarts_total');
    expect(metrics).toContain('herdless_informer_restarts_total');
  });

  it('relists at once on a 410 Gone answer and on a 410 ERROR event in the stream', async () => {
    const t = await startInformer();
    server.put('a');
    server.onWatch.push((_req, res) =>
      res.writeHead(410, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired' })),
    );
    server.onWatch.push((_req, res) => {
      res.writeHead(200);
      res.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } })}\n`);
      res.end();
    });
    const inf = t.make();
    await inf.start();
    await eventually(() => expect(server.watches.length).toBe(3));
    expect(server.lists).toBe(3);
    expect(inf.restarts()).toBe(2);
    server.put('a');
    server.send('MODIFIED', server.objects.get('a'));
    await eventually(() => expect(cacheState(inf)).toEqual(serverState()));
    expect(t.events).toEqual(['add a@101', 'update a@102']);
  });

  it('relists after a cut stream and loses no event that happened meanwhile', async () => {
    const t = await startInformer();
    for (const n of ['a', 'b', 'c']) server.put(n);
    const inf = t.make();
    await inf.start();
    await eventually(() => expect(server.watches.length).toBe(1));
    server.send('MODIFIED', server.put('a'));
    await eventually(() => expect(cacheState(inf)).toContain('a@104'));
    server.cutAll();
    server.put('b');
    server.remove('c');
    server.put('d');
    await eventually(() => expect(cacheState(inf)).toEqual(serverState()));
    expect(inf.restarts()).toBe(1);
  });

  it('re-watches without a list when the server ends a watch cleanly', async () => {
    const t = await startInformer();
    server.put('a');
    server.onWatch.push((_req, res) => {
      res.writeHead(200);
      res.end(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '150' } } })}\n`);
    });
    const inf = t.make();
    await inf.start();
    await eventually(() => expect(server.watches).toEqual(['101', '150']));
    expect(server.lists).toBe(1);
    expect(inf.restarts()).toBe(0);
  });

  it('takes a watch that outlives its timeout as hung and relists', async () => {
    const t = await startInformer({ watchTimeoutSeconds: 1, watchGraceMs: 200 });
    server.put('a');
    const inf = t.make();
    await inf.start();
    // The scripted server never ends the watch: a half-open connection, a paused proxy.
    await eventually(() => expect(server.lists).toBe(2), 5_000);
    expect(inf.restarts()).toBe(1);
  });

  it('retries a failing list with backoff and syncs once it answers', async () => {
    const t = await startInformer();
    server.put('a');
    server.listFailures = 3;
    const inf = t.make();
    await inf.start();
    await inf.synced();
    expect(cacheState(inf)).toEqual(['a@101']);
    expect(server.lists).toBe(4);
    expect(inf.restarts()).toBe(3);
  });

  it('ignores duplicate events for the version it already holds', async () => {
    const t = await startInformer();
    const a = server.put('a');
    const inf = t.make();
    await inf.start();
    await eventually(() => expect(server.watches.length).toBe(1));
    server.send('MODIFIED', a);
    server.send('MODIFIED', server.put('a'));
    await eventually(() => expect(cacheState(inf)).toEqual(['a@102']));
    expect(t.events).toEqual(['add a@101', 'update a@102']);
  });

  it('a metadata informer asks for PartialObjectMetadata on its list and watches, caches what transform keeps, and hands each update the object it replaces', async () => {
    server = new ScriptedServer();
    const kc = kubeConfigFor(await server.listen());
    const a = server.put('a');
    a.metadata = { ...a.metadata, annotations: { keep: 'x', drop: 'y' } } as Obj['metadata'];
    const keep = (o: KubernetesObject): KubernetesObject => ({
      metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, resourceVersion: o.metadata?.resourceVersion, annotations: { keep: o.metadata?.annotations?.keep ?? '' } },
    });
    const inf = createMetadataInformer({ kc, name: 'test-metadata', path: '/things', labelSelector: 'managed=true', logger, transform: keep });
    informer = inf as ResilientInformer<Obj>;
    const updates: string[] = [];
    inf.on('update', (o, old) => updates.push(`${old?.metadata?.resourceVersion}->${o.metadata?.resourceVersion} ${JSON.stringify(o.metadata?.annotations)}`));
    await inf.start();
    await inf.synced();
    expect(inf.get('a', 'ns')?.metadata?.annotations).toEqual({ keep: 'x' });
    await eventually(() => expect(server.watches).toHaveLength(1));
    const changed = server.put('a');
    changed.metadata = { ...changed.metadata, annotations: { keep: 'z', drop: 'w' } } as Obj['metadata'];
    server.send('MODIFIED', changed);
    await eventually(() => expect(updates).toEqual(['101->102 {"keep":"z"}']));
    expect(server.requests).toEqual([`list ${PARTIAL_OBJECT_METADATA_LIST_ACCEPT} managed=true`, `watch ${PARTIAL_OBJECT_METADATA_ACCEPT} managed=true`]);
  });
});

describe('a keep predicate', () => {
  /** Names whose first letter is held, unless annotated hold=no. */
  const held = new Set<string>();
  const keep = (o: Obj): boolean => held.has(o.metadata.name[0] as string) && o.metadata.annotations?.hold !== 'no';

  it('caches only what it keeps, at list and on every watch event, drops what stops being kept, and ignores deletes of objects it never held', async () => {
    held.clear();
    held.add('a');
    const t = await startInformer({ keep });
    server.put('a1');
    server.put('b1');
    const inf = t.make();
    await inf.start();
    await inf.synced();
    expect(cacheState(inf)).toEqual(['a1@101']);
    expect([inf.knows('b1', 'ns'), inf.knows('zz', 'ns')]).toEqual([true, false]);
    await eventually(() => expect(server.watches).toHaveLength(1));
    server.send('ADDED', server.put('a2'));
    server.send('ADDED', server.put('b2'));
    server.send('DELETED', server.remove('b1'));
    const dropped = server.put('a1');
    dropped.metadata = { ...dropped.metadata, annotations: { hold: 'no' } } as Obj['metadata'];
    server.send('MODIFIED', dropped);
    await eventually(() => expect(cacheState(inf)).toEqual(['a2@103']));
    expect(t.events).toEqual(['add a1@101', 'add a2@103', 'delete a1']);
    expect([inf.knows('a1', 'ns'), inf.knows('b1', 'ns'), inf.knows('b2', 'ns')]).toEqual([true, false, true]);
  });

  it('refilter drops what it no longer keeps and, widened, adds what it now keeps from a fresh list, on the same watch', async () => {
    held.clear();
    held.add('a');
    const t = await startInformer({ keep });
    for (const name of ['a1', 'a2', 'b1', 'b2', 'c1']) server.put(name);
    const inf = t.make();
    await inf.start();
    await inf.synced();
    await eventually(() => expect(server.watches).toHaveLength(1));
    held.delete('a');
    held.add('b');
    await inf.refilter({ widened: true });
    expect(cacheState(inf)).toEqual(['b1@103', 'b2@104']);
    expect(t.events).toEqual(['add a1@101', 'add a2@102', 'delete a1', 'delete a2', 'add b1@103', 'add b2@104']);
    expect([server.lists, server.watches.length, inf.restarts()]).toEqual([2, 1, 0]);
    server.send('ADDED', server.put('b3'));
    await eventually(() => expect(cacheState(inf)).toEqual(['b1@103', 'b2@104', 'b3@106']));
  });

  /** An informer holding the a-names, synced and watching, whose next lists wait for `openLists()` once `holdLists()` was called. */
  async function gatedInformer(names: string[]) {
    held.clear();
    held.add('a');
    let gate: Promise<void> | undefined;
    let open = (): void => undefined;
    const t = await startInformer({ keep }, () => gate ?? Promise.resolve());
    for (const name of names) server.put(name);
    const inf = t.make();
    await inf.start();
    await inf.synced();
    await eventually(() => expect(server.watches).toHaveLength(1));
    return {
      inf,
      holdLists: () => void (gate = new Promise<void>((resolve) => (open = resolve))),
      openLists: () => {
        gate = undefined;
        open();
      },
    };
  }

  it('refilters asked for while one lists share one more list', async () => {
    const { inf, holdLists, openLists } = await gatedInformer(['a1', 'b1', 'c1', 'd1']);
    holdLists();
    held.add('b');
    const first = inf.refilter({ widened: true });
    await eventually(() => expect(server.lists).toBe(2));
    held.add('c');
    held.add('d');
    const later = [inf.refilter({ widened: true }), inf.refilter({ widened: true })];
    openLists();
    await Promise.all([first, ...later]);
    expect(cacheState(inf)).toEqual(['a1@101', 'b1@102', 'c1@103', 'd1@104']);
    expect(server.lists).toBe(3);
  });

  it('an object deleted while refilter lists is not brought back by the list', async () => {
    const { inf, holdLists, openLists } = await gatedInformer(['a1', 'b1']);
    held.add('b');
    holdLists();
    const refiltered = inf.refilter({ widened: true });
    // The list has been answered with b1 in it; its delete arrives on the watch before the list is merged.
    await eventually(() => expect(server.lists).toBe(2));
    server.send('DELETED', server.remove('b1'));
    await eventually(() => expect(inf.knows('b1', 'ns')).toBe(false));
    openLists();
    await refiltered;
    expect(cacheState(inf)).toEqual(['a1@101']);
    expect(cacheState(inf)).toEqual(serverState());
  });

  /**
   * The start's full list of b1, a1, b2 a page each, every page answered held until the test lets
   * it go; the first page (b1) is judged while only the a-names are held, then the b-names are
   * taken (a plan shard's hold) and a refilter asked for while the full list waits on its second
   * page. `interleave` lets the two lists' pages go; the cache must end as the server is.
   */
  async function holdTakenWhileTheFirstListPages(interleave: (release: (count: number, index: number) => Promise<void>, refiltered: Promise<void>, synced: Promise<void>) => Promise<void>) {
    held.clear();
    held.add('a');
    const waiting: Array<() => void> = [];
    let gated = true;
    const openAll = (): void => {
      gated = false;
      for (const release of waiting.splice(0)) release();
    };
    const t = await startInformer({ keep, listPageSize: 1 }, () => (gated ? new Promise<void>((resolve) => waiting.push(resolve)) : Promise.resolve()));
    for (const name of ['b1', 'a1', 'b2']) server.put(name);
    const inf = t.make();
    void inf.start();
    /** Lets the `index`th page waiting go, once `count` wait. */
    const release = async (count: number, index: number): Promise<void> => {
      await eventually(() => expect(waiting).toHaveLength(count));
      waiting.splice(index, 1)[0]?.();
    };
    try {
      await release(1, 0);
      await eventually(() => expect(waiting).toHaveLength(1));
      held.add('b');
      const refiltered = inf.refilter({ widened: true });
      await interleave(release, refiltered, inf.synced());
      openAll();
      await Promise.all([refiltered, inf.synced()]);
    } finally {
      openAll();
    }
    expect(cacheState(inf)).toEqual(['a1@102', 'b1@101', 'b2@103']);
    expect(cacheState(inf)).toEqual(serverState());
  }

  it('a refilter asked for while a full list pages is not undone by that list applied before it (its first page was judged by the old predicate)', async () => {
    await holdTakenWhileTheFirstListPages(async (release, _refiltered, synced) => {
      // The full list's last two pages go (the refilter's first waits behind them), and it is applied.
      await release(2, 0);
      await release(2, 1);
      await synced;
    });
  });

  it('nor by that list applied after it', async () => {
    await holdTakenWhileTheFirstListPages(async (release, refiltered) => {
      // The refilter's three pages go while the full list waits on its second, and it is merged.
      for (let page = 0; page < 3; page++) await release(2, 1);
      await refiltered;
    });
  });
});
