// A fault proxy between one process and one server (the kube-apiserver over TLS, or our AWS
// endpoint over plain HTTP), breaking things on demand: latency, injected 500s and 429s, cut
// watch streams, forced 410 Gone on the next watch, a full pause and a partition. One proxy
// per process, so one worker or one scheduler replica can be cut off alone. HTTP/1.1 only:
// @kubernetes/client-node (node-fetch) and the AWS SDK's Node handler both speak HTTP/1.1.
// It never changes a request or reply that it forwards, other than hop-by-hop headers.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Agent as HttpAgent, createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { Transform, pipeline, type TransformCallback } from 'node:stream';
import { startFaultControlEndpoint, type FaultControlEndpoint } from './control-endpoint.js';
import { decideFault, isWatchRequest, mergeFaultSettings, NO_FAULTS, type FaultDecision, type FaultSettings, type PartitionMode } from './fault-settings.js';

/** The reply dialect of injected errors: Kubernetes `Status` objects, AWS JSON 1.1 errors, or plain text. */
export type FaultFlavor = 'kubernetes' | 'aws' | 'http';

export interface FaultProxyOptions {
  /** `https://127.0.0.1:6443` or `http://127.0.0.1:4566`. */
  upstream: string;
  flavor?: FaultFlavor;
  /** Trust and client identity towards an https upstream (the kubeconfig's CA and client certificate). */
  upstreamTls?: { caPem?: string; certPem?: string; keyPem?: string; servername?: string };
  /** Serve TLS with this certificate (see createProxyCertificate); plain HTTP when absent. */
  serveTls?: { certPem: string; keyPem: string };
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Name in logs and the control endpoint, e.g. "scheduler-1". */
  name?: string;
  /** Port of the plain-HTTP control endpoint; 0 = a free port (default), false = none. */
  controlPort?: number | false;
  initialFaults?: Partial<FaultSettings>;
  /** [0, 1) source for the random faults; tests pass a seeded one. */
  random?: () => number;
}

export interface FaultProxyStats {
  requests: number;
  forwarded: number;
  injectedErrors: number;
  injectedThrottles: number;
  expiredWatches: number;
  cutStreams: number;
  resetByPartition: number;
  /** Requests held right now by a pause or a partition. */
  held: number;
  /** Watches streaming right now. */
  openWatches: number;
}

export interface FaultProxy {
  name: string;
  /** Where the process should connect instead of the server. */
  url: string;
  /** `http://127.0.0.1:<port>` of the control endpoint (see control-endpoint.ts), when started. */
  controlUrl?: string;
  settings(): FaultSettings;
  /** Merges settings (validated); returns the new ones. */
  set(update: Partial<FaultSettings>): FaultSettings;
  /** No faults at all: resumes, heals, zero rates. */
  reset(): FaultSettings;
  /** Ends every open watch stream mid-flight (the client sees the connection drop); returns how many. */
  cutWatches(): number;
  /** Drops every client connection, streaming or idle. */
  cutAll(): number;
  /** Answers the next `count` watches with 410 Gone, reason Expired. */
  expireNextWatches(count?: number, as?: 'event' | 'status'): FaultSettings;
  pause(): FaultSettings;
  resume(): FaultSettings;
  partition(mode?: PartitionMode): FaultSettings;
  heal(): FaultSettings;
  stats(): FaultProxyStats;
  stop(): Promise<void>;
}

interface Exchange {
  socket: Socket;
  watch: boolean;
  cut(): void;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(opts.upstream);
  const upstreamIsTls = upstream.protocol === 'https:';
  const flavor: FaultFlavor = opts.flavor ?? (upstreamIsTls ? 'kubernetes' : 'http');
  const name = opts.name ?? `fault-proxy-${randomUUID().slice(0, 8)}`;
  const random = opts.random ?? Math.random;
  let settings = mergeFaultSettings({ ...NO_FAULTS }, opts.initialFaults ?? {});
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  const counters = { requests: 0, forwarded: 0, injectedErrors: 0, injectedThrottles: 0, expiredWatches: 0, cutStreams: 0, resetByPartition: 0 };
  let held = 0;
  const sockets = new Set<Socket>();
  const exchanges = new Set<Exchange>();
  const gates = new Set<Gate>();

  const agent = upstreamIsTls
    ? new HttpsAgent({
        keepAlive: true,
        ...(opts.upstreamTls?.caPem ? { ca: opts.upstreamTls.caPem } : {}),
        ...(opts.upstreamTls?.certPem ? { cert: opts.upstreamTls.certPem } : {}),
        ...(opts.upstreamTls?.keyPem ? { key: opts.upstreamTls.keyPem } : {}),
        ...(opts.upstreamTls?.servername ? { servername: opts.upstreamTls.servername } : {}),
      })
    : new HttpAgent({ keepAlive: true });

  const update = (next: FaultSettings): FaultSettings => {
    const wasPartitioned = settings.partition !== 'off';
    settings = next;
    if (!wasPartitioned && settings.partition !== 'off') cutEverything();
    for (const gate of gates) gate.setOpen(!settings.paused);
    changes.emit('change');
    return settings;
  };

  function cutEverything(): number {
    let n = 0;
    for (const socket of sockets) {
      socket.destroy();
      n++;
    }
    return n;
  }

  /** Holds the request while paused or partitioned. Resolves true to go on, false when it was cut. */
  async function admit(socket: Socket): Promise<boolean> {
    let heldByPartition = false;
    for (;;) {
      if (socket.destroyed) return false;
      if (settings.partition === 'reset') {
        counters.resetByPartition++;
        socket.destroy();
        return false;
      }
      if (settings.partition === 'hang') heldByPartition = true;
      else if (heldByPartition) {
        // A request sent into a partition never arrived; the client's connection is dead.
        socket.destroy();
        return false;
      }
      if (settings.partition === 'off' && !settings.paused) return true;
      held++;
      await new Promise<void>((resolve) => {
        const done = () => {
          changes.off('change', done);
          socket.off('close', done);
          resolve();
        };
        changes.on('change', done);
        socket.once('close', done);
      });
      held--;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    counters.requests++;
    const socket = req.socket;
    if (!(await admit(socket))) return;
    const url = new URL(req.url ?? '/', 'http://proxy');
    const watch = isWatchRequest(req.method ?? 'GET', url);
    const { decision, settings: after } = decideFault(settings, { watch, path: url.pathname });
    if (after !== settings) settings = after;
    if (decision.delayMs > 0) {
      await sleep(decision.delayMs);
      if (socket.destroyed) return;
      // A pause or partition that began during the delay applies too.
      if (!(await admit(socket))) return;
    }
    if (decision.kind !== 'forward') {
      await drain(req);
      return replyFault(res, decision, url);
    }
    forward(req, res, watch);
  }

  function replyFault(res: ServerResponse, decision: Exclude<FaultDecision, { kind: 'forward' }>, url: URL): void {
    switch (decision.kind) {
      case 'error':
        counters.injectedErrors++;
        return sendFault(res, flavor, 500, 'InternalError', `fault proxy ${name}: injected internal error`);
      case 'throttle':
        counters.injectedThrottles++;
        return sendFault(res, flavor, 429, 'TooManyRequests', `fault proxy ${name}: injected throttling`, decision.retryAfterSeconds);
      case 'expire': {
        counters.expiredWatches++;
        const rv = url.searchParams.get('resourceVersion') || '0';
        const status = kubeStatus(410, 'Expired', `too old resource version: ${rv} (injected by fault proxy ${name})`);
        if (decision.as === 'status') return sendJson(res, 410, status);
        // What the API server does for a watch from a compacted resourceVersion: 200, one ERROR event, end.
        res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
        res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
        return;
      }
    }
  }

  function forward(req: IncomingMessage, res: ServerResponse, watch: boolean): void {
    const headers: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(key)) continue;
      headers[key] = value;
    }
    headers.host = upstream.host;
    const send = upstreamIsTls ? httpsRequest : httpRequest;
    const upstreamReq = send({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers,
      agent,
    });
    counters.forwarded++;
    const exchange: Exchange = {
      socket: req.socket,
      watch,
      cut: () => {
        counters.cutStreams++;
        upstreamReq.destroy();
        req.socket.destroy();
      },
    };
    exchanges.add(exchange);
    const finish = () => exchanges.delete(exchange);
    res.on('close', () => {
      finish();
      // The client went away (or was cut): stop the upstream request too, watches included.
      if (!res.writableFinished) upstreamReq.destroy();
    });
    upstreamReq.on('error', (err) => {
      finish();
      if (!res.headersSent) sendFault(res, flavor, 502, 'ServiceUnavailable', `fault proxy ${name}: upstream ${upstream.host}: ${err.message}`);
      else res.destroy();
    });
    upstreamReq.on('response', (upstreamRes) => {
      const outHeaders: Record<string, string | string[]> = {};
      for (const [key, value] of Object.entries(upstreamRes.headers)) {
        if (value === undefined || HOP_BY_HOP.has(key)) continue;
        outHeaders[key] = value;
      }
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, outHeaders);
      // Watch events must reach the client as they come, not when a buffer fills.
      res.flushHeaders();
      const gate = new Gate(!settings.paused);
      gates.add(gate);
      pipeline(upstreamRes, gate, res, () => {
        gates.delete(gate);
        finish();
      });
    });
    pipeline(req, upstreamReq, () => undefined);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendFault(res, flavor, 500, 'InternalError', `fault proxy ${name} failed: ${String(err)}`);
      else res.destroy();
    });
  };
  const server: Server = opts.serveTls ? createHttpsServer({ cert: opts.serveTls.certPem, key: opts.serveTls.keyPem }, onRequest) : createHttpServer(onRequest);
  server.keepAliveTimeout = 65_000;
  // Watches run for minutes; Node's default request timeout would end them.
  server.requestTimeout = 0;
  server.on('connection', (socket: Socket) => {
    if (settings.partition === 'reset') {
      counters.resetByPartition++;
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (_req, socket: Socket) => socket.destroy()); // exec/port-forward: not proxied
  server.on('clientError', (_err, socket: Socket) => socket.destroy());

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port ?? 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `${opts.serveTls ? 'https' : 'http'}://${host}:${port}`;

  const proxy: FaultProxy = {
    name,
    url,
    settings: () => ({ ...settings }),
    set: (partial) => update(mergeFaultSettings(settings, partial)),
    reset: () => update({ ...NO_FAULTS }),
    cutWatches() {
      let n = 0;
      for (const exchange of [...exchanges]) {
        if (!exchange.watch) continue;
        exchange.cut();
        n++;
      }
      return n;
    },
    cutAll: () => cutEverything(),
    expireNextWatches: (count = 1, as) => update(mergeFaultSettings(settings, { expireNextWatches: settings.expireNextWatches + count, ...(as ? { expireAs: as } : {}) })),
    pause: () => update({ ...settings, paused: true }),
    resume: () => update({ ...settings, paused: false }),
    partition: (mode = 'hang') => update({ ...settings, partition: mode }),
    heal: () => update({ ...settings, partition: 'off' }),
    stats: () => ({ ...counters, held, openWatches: [...exchanges].filter((e) => e.watch).length }),
    async stop() {
      await control?.stop();
      settings = { ...NO_FAULTS };
      changes.emit('change');
      cutEverything();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  let control: FaultControlEndpoint | undefined;
  if (opts.controlPort !== false) {
    try {
      control = await startFaultControlEndpoint(proxy, { host, port: opts.controlPort ?? 0 });
    } catch (err) {
      await proxy.stop();
      throw err;
    }
    proxy.controlUrl = control.url;
  }
  return proxy;
}

/** A pass-through that stops the flow while closed (a paused proxy holds streams mid-flight). */
class Gate extends Transform {
  private open: boolean;
  private waiting: (() => void) | undefined;
  constructor(open: boolean) {
    super();
    this.open = open;
  }
  setOpen(open: boolean): void {
    this.open = open;
    if (open && this.waiting) {
      const go = this.waiting;
      this.waiting = undefined;
      go();
    }
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.open) return callback(null, chunk);
    this.waiting = () => callback(null, chunk);
  }
}

function kubeStatus(code: number, reason: string, message: string, retryAfterSeconds?: number) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(retryAfterSeconds !== undefined ? { details: { retryAfterSeconds } } : {}),
    code,
  };
}

function sendFault(res: ServerResponse, flavor: FaultFlavor, status: number, reason: string, message: string, retryAfterSeconds?: number): void {
  const retry: Record<string, string> = retryAfterSeconds !== undefined ? { 'Retry-After': String(retryAfterSeconds) } : {};
  if (flavor === 'kubernetes') return sendJson(res, status, kubeStatus(status, reason, message, retryAfterSeconds), retry);
  if (flavor === 'aws') {
    // AWS's own replies: InternalServiceError (500); throttling is 400 ThrottlingException.
    const [httpStatus, type] = status === 429 ? [400, 'ThrottlingException'] : status >= 500 ? [status, status === 500 ? 'InternalServiceError' : 'ServiceUnavailable'] : [status, reason];
    const payload = Buffer.from(JSON.stringify({ __type: type, Message: message }), 'utf8');
    res.writeHead(httpStatus, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': String(payload.length), 'x-amzn-ErrorType': type, 'x-amzn-RequestId': randomUUID(), ...retry });
    res.end(payload);
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/plain', ...retry });
  res.end(`${message}\n`);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(payload.length), ...headers });
  res.end(payload);
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // discard: an injected reply does not depend on the body
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
