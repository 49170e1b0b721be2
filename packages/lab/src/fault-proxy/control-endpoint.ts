// The plain-HTTP control endpoint of one fault proxy, on loopback, so a person (curl) or another
// process can break and heal things by hand:
//   GET    /faults                    → { name, url, settings, stats }
//   PUT    /faults   {partial settings} → merged settings (400 naming the bad field)
//   DELETE /faults                    → no faults (resumed, healed)
//   POST   /faults/cut-watches        → { cut }      every open watch stream dropped
//   POST   /faults/cut-all            → { cut }      every client connection dropped
//   POST   /faults/expire-watches {count?, as?}     next watches answered 410 Expired
//   POST   /faults/pause | /faults/resume
//   POST   /faults/partition {mode?: "hang"|"reset"} | /faults/heal
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultProxy } from './fault-proxy.js';
import { FaultSettingsError } from './fault-settings.js';

export interface FaultControlEndpoint {
  url: string;
  stop(): Promise<void>;
}

export async function startFaultControlEndpoint(proxy: FaultProxy, opts: { host?: string; port?: number } = {}): Promise<FaultControlEndpoint> {
  const server = createServer((req, res) => {
    route(proxy, req, res).catch((err: unknown) => {
      const status = err instanceof FaultSettingsError ? 400 : 500;
      send(res, status, { error: err instanceof Error ? err.message : String(err), ...(err instanceof FaultSettingsError ? { reason: err.reason } : {}) });
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port ?? 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(proxy: FaultProxy, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://control').pathname.replace(/\/+$/, '');
  const body = await readJson(req);
  const state = () => ({ name: proxy.name, url: proxy.url, settings: proxy.settings(), stats: proxy.stats() });
  switch (`${req.method} ${path}`) {
    case 'GET /faults':
      return send(res, 200, state());
    case 'PUT /faults':
    case 'PATCH /faults':
      proxy.set(body as never);
      return send(res, 200, state());
    case 'DELETE /faults':
      proxy.reset();
      return send(res, 200, state());
    case 'POST /faults/cut-watches':
      return send(res, 200, { cut: proxy.cutWatches() });
    case 'POST /faults/cut-all':
      return send(res, 200, { cut: proxy.cutAll() });
    case 'POST /faults/expire-watches': {
      const { count, as } = (body ?? {}) as { count?: number; as?: 'event' | 'status' };
      proxy.expireNextWatches(count ?? 1, as);
      return send(res, 200, state());
    }
    case 'POST /faults/pause':
      proxy.pause();
      return send(res, 200, state());
    case 'POST /faults/resume':
      proxy.resume();
      return send(res, 200, state());
    case 'POST /faults/partition': {
      const { mode } = (body ?? {}) as { mode?: 'hang' | 'reset' };
      proxy.partition(mode ?? 'hang');
      return send(res, 200, state());
    }
    case 'POST /faults/heal':
      proxy.heal();
      return send(res, 200, state());
    default:
      return send(res, 404, { error: `no control route ${req.method} ${path}; see GET /faults` });
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new FaultSettingsError(`the request body is not JSON: ${text.slice(0, 80)}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const payload = Buffer.from(`${JSON.stringify(body, null, 2)}\n`, 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) });
  res.end(payload);
}
