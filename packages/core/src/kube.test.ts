// withPooledAgents: the client's requests share keep-alive connections instead of opening one
// (and, over TLS, a handshake) per call. Counted at a loopback server: connections, not requests.
// kubeClients: API calls go over undici (kube-http.ts), except for a proxied cluster; what the
// server sees and the errors the call sites branch on are the same. Against the real API server
// (TLS, client certificates, tokens): test/kube/kube-http.test.ts.
import { createServer, type Agent, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ApiException, CoreV1Api, KubeConfig, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { isConflict, isNotFound, kubeClients, loadKubeConfig, mergePatch, statusCodeOf, withPooledAgents, writeObject } from './kube.js';
import { USER_AGENT } from './kube-http.js';

let server: Server | undefined;

afterEach(async () => {
  const s = server;
  server = undefined;
  if (s) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

function kubeConfigFor(url: string, extra: { caData?: string; proxyUrl?: string } = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: url.startsWith('http:'), ...extra }],
    users: [{ name: 'u', token: 'not-a-secret' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/** A namespace endpoint that counts the TCP connections it accepts. */
async function countingServer(): Promise<{ url: string; connections: () => number; requests: () => number }> {
  let connections = 0;
  let requests = 0;
  const s = createServer((req, res) => {
    requests++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: req.url?.split('/').pop() } }));
  });
  s.on('connection', () => connections++);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  server = s;
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, connections: () => connections, requests: () => requests };
}

async function readNamespaces(kc: KubeConfig, n: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < n; i++) {
    const ns = await core.readNamespace({ name: `ns-${i}` });
    expect(ns.metadata?.name).toBe(`ns-${i}`);
  }
}

describe('withPooledAgents', () => {
  it('sends many sequential API calls over one connection', async () => {
    const s = await countingServer();
    await readNamespaces(withPooledAgents(kubeConfigFor(s.url)), 20);
    expect(s.requests()).toBe(20);
    expect(s.connections()).toBe(1);
  });

  it('is what the plain client lacks: a connection per call without it', async () => {
    // The reason for the pool, kept as a test so a client upgrade that fixes it upstream shows here.
    const s = await countingServer();
    await readNamespaces(kubeConfigFor(s.url), 5);
    expect(s.connections()).toBe(5);
  });

  it('hands out one keep-alive agent per TLS identity, watches included', async () => {
    const kc = withPooledAgents(kubeConfigFor('https://127.0.0.1:1', { caData: Buffer.from('ca-one').toString('base64') }));
    const a = (await kc.applyToFetchOptions({})).agent as Agent;
    const b = (await kc.applyToFetchOptions({})).agent as Agent;
    expect(a).toBe(b);
    expect((a as Agent & { keepAlive: boolean }).keepAlive).toBe(true);
    const other = withPooledAgents(kubeConfigFor('https://127.0.0.1:1', { caData: Buffer.from('ca-two').toString('base64') }));
    expect((await other.applyToFetchOptions({})).agent).not.toBe(a);
  });
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers a Namespace for reads, the request's own body for writes, 404 and 409 Status for names
 *  that say so, a body that is not JSON for `not-json` (201) and `broken` (502, as a proxy would). */
async function recordingServer(): Promise<{ url: string; seen: Seen[]; connections: () => number }> {
  const seen: Seen[] = [];
  let connections = 0;
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const name = req.method === 'POST' ? ((JSON.parse(body) as { metadata?: { name?: string } }).metadata?.name ?? '') : ((req.url ?? '').split('?')[0]?.split('/').pop() ?? '');
      res.setHeader('content-type', 'application/json');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      const status = (code: number, reason: string) =>
        JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `namespaces "${name}" ${reason}`, reason, code });
      if (name === 'missing') {
        res.statusCode = 404;
        res.end(status(404, 'NotFound'));
      } else if (name === 'taken') {
        res.statusCode = 409;
        res.end(status(409, 'AlreadyExists'));
      } else if (name === 'not-json' || name === 'broken') {
        res.statusCode = name === 'broken' ? 502 : 201;
        res.end('<html>not json</html>');
      } else {
        res.end(body || JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
      }
    });
  });
  s.on('connection', () => connections++);
  // As an HTTP proxy: a CONNECT is recorded and its tunnel served by this same server.
  s.on('connect', (req: IncomingMessage, socket: Socket) => {
    seen.push({ method: 'CONNECT', url: req.url ?? '', headers: req.headers, body: '' });
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    s.emit('connection', socket);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  server = s;
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen, connections: () => connections };
}


describe('kubeClients', () => {
  it('sends API calls over undici, not node-fetch, on keep-alive connections', async () => {
    const s = await recordingServer();
    const { core } = kubeClients(withPooledAgents(kubeConfigFor(s.url)));
    for (let i = 0; i < 10; i++) expect((await core.readNamespace({ name: `ns-${i}` })).metadata?.name).toBe(`ns-${i}`);
    expect(s.seen).toHaveLength(10);
    expect(s.seen.map((r) => r.headers['user-agent'])).toEqual(Array(10).fill(USER_AGENT));
    expect(s.seen[0]?.headers.authorization).toBe('Bearer not-a-secret');
    // undici opens a second connection while it releases the first after a response, then
    // alternates between the two; without keep-alive it would be one per call.
    expect(s.connections()).toBeLessThanOrEqual(2);
  });

  it('keeps a user agent the call set', async () => {
    const s = await recordingServer();
    const { core } = kubeClients(withPooledAgents(kubeConfigFor(s.url)));
    await core.readNamespace({ name: 'a' }, setHeaderOptions('User-Agent', 'someone-else'));
    expect(s.seen[0]?.headers['user-agent']).toBe('someone-else');
  });

  it('is not what the client does on its own: makeApiClient sends through node-fetch', async () => {
    // Keeps the test above able to fail: the user agent tells the two transports apart.
    const s = await recordingServer();
    await withPooledAgents(kubeConfigFor(s.url)).makeApiClient(CoreV1Api).readNamespace({ name: 'a' });
    expect(s.seen[0]?.headers['user-agent']).toMatch(/^node-fetch/);
  });

  it('sends a merge patch with its content type and body, and parses the answer', async () => {
    const s = await recordingServer();
    const { core } = kubeClients(withPooledAgents(kubeConfigFor(s.url)));
    const body = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'patched', labels: { a: 'b' } } };
    const answer = await core.patchNamespace({ name: 'patched', body }, mergePatch);
    expect(answer.metadata?.labels).toEqual({ a: 'b' });
    expect(s.seen[0]).toMatchObject({ method: 'PATCH', url: '/api/v1/namespaces/patched' });
    expect(s.seen[0]?.headers['content-type']).toBe('application/merge-patch+json');
    expect(JSON.parse(s.seen[0]?.body ?? '')).toEqual(body);
  });

  it('turns 404 and 409 into ApiException with the code and the server\'s Status', async () => {
    const s = await recordingServer();
    const { core } = kubeClients(withPooledAgents(kubeConfigFor(s.url)));
    const missing = await core.readNamespace({ name: 'missing' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiException);
    expect(isNotFound(missing)).toBe(true);
    expect(String((missing as ApiException<string>).body)).toContain('namespaces \\"missing\\" NotFound');
    const taken = await core.createNamespace({ body: { metadata: { name: 'taken' } } }).catch((e: unknown) => e);
    expect(isConflict(taken)).toBe(true);
  });

  it('stops a call whose connection is refused with an error, not a hang', async () => {
    const s = await recordingServer();
    const url = s.url;
    server?.close();
    server?.closeAllConnections();
    server = undefined;
    const { core } = kubeClients(withPooledAgents(kubeConfigFor(url)));
    const refused = await core.readNamespace({ name: 'a' }).catch((e: unknown) => e);
    expect(isNotFound(refused)).toBe(false);
    expect(JSON.stringify(refused, Object.getOwnPropertyNames(refused)) + String((refused as Error).cause?.toString())).toMatch(/ECONNREFUSED|connect/i);
  });

  it('leaves a proxied cluster on the client\'s own transport, through the proxy', async () => {
    const proxy = await recordingServer();
    const kc = withPooledAgents(kubeConfigFor('http://cluster.invalid:6443', { proxyUrl: proxy.url }));
    const ns = await kubeClients(kc).core.readNamespace({ name: 'via-proxy' });
    expect(ns.metadata?.name).toBe('via-proxy');
    // The client's proxy agent tunnels with CONNECT; node-fetch's user agent says which transport sent the call.
    expect(proxy.seen.map((r) => `${r.method} ${r.url}`)).toEqual(['CONNECT cluster.invalid:6443', 'GET /api/v1/namespaces/via-proxy']);
    expect(proxy.seen[1]?.headers['user-agent']).toMatch(/^node-fetch/);
  });

  it('loadKubeConfig pools agents, so its clients take the undici path', async () => {
    const s = await recordingServer();
    const kc = kubeConfigFor(s.url);
    const path = `/tmp/herdless-kube-test-${process.pid}.yaml`;
    const { writeFileSync, rmSync } = await import('node:fs');
    writeFileSync(path, kc.exportConfig());
    try {
      await kubeClients(loadKubeConfig(path)).core.readNamespace({ name: 'from-file' });
    } finally {
      rmSync(path, { force: true });
    }
    expect(s.seen[0]?.headers['user-agent']).toBe(USER_AGENT);
  });
});

describe('writeObject', () => {
  it('sends the body with its content type over the same transport, and does not parse a success', async () => {
    const s = await recordingServer();
    const kc = withPooledAgents(kubeConfigFor(s.url));
    // A 201 whose body is not JSON: a parse of it would reject.
    await writeObject(kc, 'POST', '/api/v1/namespaces', { metadata: { name: 'not-json' } });
    const ops = [{ op: 'test', path: '/metadata/uid', value: 'u' }];
    await writeObject(kc, 'PATCH', '/api/v1/namespaces/a/status', ops, 'application/json-patch+json');
    expect(s.seen.map((r) => `${r.method} ${r.url} ${r.headers['content-type']}`)).toEqual([
      'POST /api/v1/namespaces application/json',
      'PATCH /api/v1/namespaces/a/status application/json-patch+json',
    ]);
    expect(JSON.parse(s.seen[1]?.body ?? '')).toEqual(ops);
    expect(s.seen.map((r) => r.headers['user-agent'])).toEqual([USER_AGENT, USER_AGENT]);
    expect(s.seen[0]?.headers.authorization).toBe('Bearer not-a-secret');
  });

  it('rejects with the ApiException the generated client throws: code, Status body, its message', async () => {
    const s = await recordingServer();
    const kc = withPooledAgents(kubeConfigFor(s.url));
    const taken = await writeObject(kc, 'POST', '/api/v1/namespaces', { metadata: { name: 'taken' } }).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(ApiException);
    expect(isConflict(taken)).toBe(true);
    expect((taken as ApiException<{ reason?: string }>).body.reason).toBe('AlreadyExists');
    expect((taken as Error).message).toContain('namespaces "taken" AlreadyExists');
    const missing = await writeObject(kc, 'PUT', '/api/v1/namespaces/missing', {}).catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
    // An answer that is not a Status (a proxy's page): still the code, the text as the body.
    const broken = await writeObject(kc, 'PATCH', '/api/v1/namespaces/broken', {}).catch((e: unknown) => e);
    expect(statusCodeOf(broken)).toBe(502);
    expect((broken as ApiException<string>).body).toBe('<html>not json</html>');
  });
});
