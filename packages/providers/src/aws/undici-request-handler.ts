// The AWS SDK clients' HTTP transport on undici. The SDK's own handler (node:http's client and
// agent, its socket write on assignment, the response stream it collects) was about 100 µs of a
// worker's CPU per call, a third of the SDK's whole cost, measured call by call against the lab's
// AWS endpoint; undici does the same request for less (docs/cost-per-sync.md). Only the transport
// changes: the SDK still builds, signs and parses every request, and its errors are the ones
// classifyAwsError reads (a call with no HTTP reply is a connection problem, whatever its code).
// It never retries: the SDK makes one attempt (AWS_SDK_MAX_ATTEMPTS) and the call path decides.
import { buildQueryString } from '@smithy/core/protocols';
import { Agent, request, type Dispatcher } from 'undici';

/** The SDK's HTTP request, as the signing middleware leaves it (@smithy/protocol-http's HttpRequest). */
export interface SdkHttpRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number | undefined;
  path: string;
  query?: Record<string, string | Array<string> | null> | undefined;
  headers: Record<string, string>;
  body?: unknown;
}

/** The SDK's HTTP response: a body it can collect (a Uint8Array is taken as is). */
export interface SdkHttpResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface UndiciRequestHandlerOptions {
  /** Time to open a connection (TCP and TLS). */
  connectionTimeoutMs: number;
  /** Time for the whole reply: its headers, then its body. */
  requestTimeoutMs: number;
  /** Connections per origin, as the SDK's node handler allows (maxSockets 50). */
  connections?: number;
}

/** The SDK's node handler also keeps at most 50 sockets per origin. */
const DEFAULT_CONNECTIONS = 50;

function bodyOf(body: unknown): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  // Every operation Herdless calls has a JSON (Secrets Manager, SSM) or form (STS) body; a
  // stream would be an SDK change this transport was not built for.
  throw new TypeError(`expected a string or bytes as the request body, found ${typeof body}`);
}

/**
 * An SDK request handler (the `requestHandler` of a client's options). Its connections are made
 * at its first call and closed by destroy(), which the SDK client's destroy() calls.
 */
export class UndiciRequestHandler {
  private dispatcher: Agent | undefined;

  constructor(private readonly options: UndiciRequestHandlerOptions) {}

  async handle(req: SdkHttpRequest, handlerOptions?: { abortSignal?: AbortSignal | { aborted: boolean } | undefined }): Promise<{ response: SdkHttpResponse }> {
    this.dispatcher ??= new Agent({
      connect: { timeout: this.options.connectionTimeoutMs },
      headersTimeout: this.options.requestTimeoutMs,
      bodyTimeout: this.options.requestTimeoutMs,
      connections: this.options.connections ?? DEFAULT_CONNECTIONS,
    });
    const port = req.port === undefined ? '' : `:${req.port}`;
    // The query as the SDK's own node handler writes it (@smithy's buildQueryString, escaped as SigV4 signed it).
    const query = req.query ? buildQueryString(req.query) : '';
    const url = `${req.protocol}//${req.hostname}${port}${req.path}${query ? `?${query}` : ''}`;
    const body = bodyOf(req.body);
    const signal = handlerOptions?.abortSignal;
    const res = await request(url, {
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers,
      dispatcher: this.dispatcher,
      ...(body === undefined ? {} : { body }),
      ...(signal instanceof AbortSignal ? { signal } : {}),
    });
    // AWS replies are small JSON or XML documents: read whole, the SDK takes the bytes as they are.
    const bytes = new Uint8Array(await res.body.arrayBuffer());
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { response: { statusCode: res.statusCode, headers, body: bytes } };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {
    const dispatcher = this.dispatcher;
    this.dispatcher = undefined;
    void dispatcher?.close().catch(() => undefined);
  }
}
