// The Kubernetes client's request transport on undici. @kubernetes/client-node 1.4 sends every
// API call through node-fetch over node:https; in the worker that was the largest share of its
// CPU (node-fetch, node:http's client and agent, URL parsing: about 40 % of a sync, measured
// with --cpu-prof in `herdless bench worker`). undici's client does the same request for less
// CPU (a read of one object against the local control plane: 0.11–0.14 ms against 0.16–0.25 ms);
// end to end a worker's CPU a sync fell by about 13 % (bench/results/2026-11-27-worker-transport-ab.json).
// HTTP/2 (undici's allowH2) was tried and cost more CPU a request than HTTP/1.1 keep-alive here.
//
// Only the transport changes: the client's generated API classes, its serializer, its errors
// (ApiException with the HTTP code) and its authentication (applySecurityAuthentication sets the
// headers and the TLS identity) stay. The TLS identity comes from the keep-alive agent the client
// picked for the request (withPooledAgents in kube.ts): each such agent gets one undici Agent with
// the same CA, client certificate and verification settings, closed when the pool drops the
// agent. Requests the transport does not cover — a cluster behind a proxy (its agent is a proxy
// agent), a multipart or form body — go through the client's own node-fetch library unchanged.
// Watches never come here: the client's Watch calls fetch itself; it gets the kubeconfig view of
// rateLimitedWatchConfig (at the end) so that it waits for the same limit. writeObject and readObject (at
// the end) skip the generated classes: the worker's Secret and status writes, whose answer nobody
// reads, and reads in a representation the generated client cannot ask for (metadata only).
import type { Agent as HttpAgent } from 'node:http';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  RequestContext,
  ResponseContext,
  wrapHttpLibrary,
  type HttpLibrary,
  type KubeConfig,
} from '@kubernetes/client-node';
import { Agent as UndiciAgent, request, type Dispatcher } from 'undici';
import { apiRateLimiter, MAX_RETRY_AFTER_ATTEMPTS, retryAfterMsOf } from './api-rate-limit.js';

/** The options of a TLS identity: what tells two agents apart, and what undici connects with. */
export const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'rejectUnauthorized'] as const;

/** Agents undici may stand in for: the TLS options each was made with, and its undici Agent once made. */
const direct = new WeakMap<HttpAgent, { connect: ConnectionOptions; dispatcher?: UndiciAgent }>();

/** Called by the agent pool for a direct (not proxied) agent it created with these options. */
export function registerDirectAgent(agent: HttpAgent, options: Record<string, unknown>): void {
  const connect: Record<string, unknown> = {};
  for (const name of TLS_OPTIONS) if (options[name] !== undefined) connect[name] = options[name];
  direct.set(agent, { connect: connect as ConnectionOptions });
}

/** Called by the agent pool when it drops an agent: its undici counterpart closes too. */
export function releaseAgent(agent: HttpAgent): void {
  const dispatcher = direct.get(agent)?.dispatcher;
  direct.delete(agent);
  void dispatcher?.close().catch(() => undefined);
}

function dispatcherFor(agent: HttpAgent | undefined): UndiciAgent | undefined {
  const entry = agent && direct.get(agent);
  if (!entry) return undefined;
  entry.dispatcher ??= new UndiciAgent({ connect: withSharedContext(entry.connect) });
  return entry.dispatcher;
}

/**
 * One TLS context (CA, client certificate and key, parsed once) for all of an agent's
 * connections: given only the PEM options, node builds and parses a new context for every
 * connection it opens (about 1.5 % of a worker's CPU in `herdless bench worker`).
 */
function withSharedContext(connect: ConnectionOptions): ConnectionOptions {
  const { ca, cert, key, pfx, passphrase, ...rest } = connect;
  return { ...rest, secureContext: createSecureContext({ ca, cert, key, pfx, passphrase }) };
}

const fallback = new IsomorphicFetchHttpLibrary();

export const USER_AGENT = 'herdless';

/** writeObject's and readObject's tries of a request answered 5xx (the first included), and the first wait between them. */
export const KUBE_5XX_ATTEMPTS = 3;
const KUBE_5XX_BACKOFF_MS = 200;

/** Named in the API server's audit log and priority-and-fairness matching (node-fetch sent its own name), unless the call set one. */
function withUserAgent(headers: Record<string, string>): Record<string, string> {
  return Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent') ? headers : { ...headers, 'user-agent': USER_AGENT };
}

/**
 * Every request of the process's API clients: waits for the process's client-side limit (QPS,
 * burst), and waits out a 429's Retry-After and sends again (at most MAX_RETRY_AFTER_ATTEMPTS
 * times), as client-go does. A 429 without Retry-After is returned to the caller.
 */
async function send(ctx: RequestContext): Promise<ResponseContext> {
  for (let attempt = 1; ; attempt++) {
    await apiRateLimiter()?.acquire();
    const res = await sendOnce(ctx);
    const wait = res.httpStatusCode === 429 && attempt < MAX_RETRY_AFTER_ATTEMPTS ? retryAfterMsOf(res.headers['retry-after']) : undefined;
    if (wait === undefined) return res;
    await new Promise<void>((r) => setTimeout(r, wait));
  }
}

async function sendOnce(ctx: RequestContext): Promise<ResponseContext> {
  const body = ctx.getBody();
  const dispatcher = dispatcherFor(ctx.getAgent());
  if (!dispatcher || (body !== undefined && typeof body !== 'string')) return fallback.send(ctx).toPromise();
  const signal = ctx.getSignal();
  const res = await request(ctx.getUrl(), {
    method: ctx.getHttpMethod() as Dispatcher.HttpMethod,
    headers: withUserAgent(ctx.getHeaders()),
    dispatcher,
    ...(body === undefined ? {} : { body }),
    ...(signal ? { signal } : {}),
  });
  // Read the whole body now: API responses are small JSON, and a body left unread would hold
  // its connection until garbage collection (the generated code does not read every status's).
  const data = Buffer.from(await res.body.arrayBuffer());
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return new ResponseContext(res.statusCode, headers, {
    text: () => Promise.resolve(data.toString('utf8')),
    binary: () => Promise.resolve(data),
  });
}

/** The transport every API client made by kubeClients() uses. */
export const undiciHttpLibrary: HttpLibrary = wrapHttpLibrary({ send });

/**
 * A write whose answer the caller needs only as success or failure: the worker's Secret create
 * and status patch (a 5xx answer is tried again, KUBE_5XX_ATTEMPTS times in all: sendJson). The
 * API server sends the whole object back (managedFields included); the
 * generated client parses and deserializes it into model classes, which was about 6 % of a
 * worker's CPU, for an object nobody reads. Here the body is parsed only on an error, which
 * rejects with the same ApiException (HTTP code, Status body) the generated client throws, so
 * isConflict, isNotFound and statusCodeOf see no difference. Authentication, the pooled agent
 * and the transport are the client's (applySecurityAuthentication, send above).
 */
export async function writeObject(
  kc: KubeConfig,
  method: 'POST' | 'PUT' | 'PATCH',
  path: string,
  body: unknown,
  contentType = 'application/json',
): Promise<void> {
  await sendJson(kc, method, path, 'application/json', { body, contentType });
}

/**
 * A read in a representation the generated client does not ask for: the scheduler's
 * metadata-only list of Secrets (Accept: PartialObjectMetadataList), which never carries data,
 * and its reads of ExternalSecrets' versions. The answer is parsed as plain JSON; a 5xx answer
 * is tried again as a write's is (sendJson); errors are the same ApiException as writeObject's.
 */
export async function readObject<T>(kc: KubeConfig, path: string, accept: string): Promise<T> {
  const res = await sendJson(kc, 'GET', path, accept);
  return JSON.parse(await res.body.text()) as T;
}

async function sendJson(
  kc: KubeConfig,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  path: string,
  accept: string,
  write?: { body: unknown; contentType: string },
): Promise<ResponseContext> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('expected a current cluster in the kubeconfig, found none');
  const ctx = new RequestContext(server.replace(/\/$/, '') + path, HttpMethod[method]);
  ctx.setHeaderParam('Accept', accept);
  if (write) {
    ctx.setHeaderParam('Content-Type', write.contentType);
    ctx.setBody(JSON.stringify(write.body));
  }
  await kc.applySecurityAuthentication(ctx);
  let res = await send(ctx);
  // A request answered 5xx (the server's fault, not the request's) is sent again, after a short
  // jittered wait, before its caller fails. A write: failing it re-runs the whole sync after the
  // planner's retry backoff (from 5 s, doubling), which re-reads the remote value. A write that
  // did land before its 5xx is answered 409 the second time, which the callers already handle
  // (a create finds the Secret exists; a replace re-reads). A read: the scheduler's reads of
  // versions, where one failed read made a new term (or the sweep) plan from a cache that may
  // lag, and sync again what a worker had just synced. Each attempt takes its own token.
  for (let attempt = 1; res.httpStatusCode >= 500 && attempt < KUBE_5XX_ATTEMPTS; attempt++) {
    await new Promise<void>((r) => setTimeout(r, KUBE_5XX_BACKOFF_MS * 2 ** (attempt - 1) * (0.5 + Math.random() / 2)));
    res = await send(ctx);
  }
  if (res.httpStatusCode >= 200 && res.httpStatusCode < 300) return res;
  const text = await res.body.text();
  let status: unknown = text;
  try {
    status = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's error page): the text is the body.
  }
  const message = (status as { message?: unknown } | null)?.message;
  throw new ApiException(res.httpStatusCode, typeof message === 'string' ? message : `${method} ${path} failed`, status, res.headers);
}

/**
 * The kubeconfig view the client's Watch is given: every watch request it sends (the first, and
 * each re-watch after a cut stream, a server timeout or a 410) waits for the process's
 * client-side limit, as client-go's rate limiter does for watch establishment. Without it a
 * watch cut every second, or a 410 storm, re-opens watches as fast as the server answers them,
 * outside --kube-api-qps. The Watch calls applyToFetchOptions once per request, just before it
 * sends it, and reads nothing else but getCurrentCluster.
 */
export function rateLimitedWatchConfig(kc: Pick<KubeConfig, 'getCurrentCluster' | 'applyToFetchOptions'>): KubeConfig {
  const view: Pick<KubeConfig, 'getCurrentCluster' | 'applyToFetchOptions'> = {
    getCurrentCluster: () => kc.getCurrentCluster(),
    async applyToFetchOptions(options) {
      await apiRateLimiter()?.acquire();
      return kc.applyToFetchOptions(options);
    },
  };
  return view as KubeConfig;
}
