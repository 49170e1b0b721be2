// A switchable front for the lab's AWS endpoint: forwards every request while the store is up,
// and answers as AWS does during a service event (500 InternalServiceError) while it is down,
// counting those replies, which the endpoint itself never sees. Loopback only.
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AwsOutageProxy {
  url: string;
  /** Epoch ms of each reply given during an outage. */
  outageReplies: number[];
  setOutage(down: boolean): void;
  isDown(): boolean;
  stop(): Promise<void>;
}

export async function startAwsOutageProxy(targetUrl: string): Promise<AwsOutageProxy> {
  const target = new URL(targetUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const outageReplies: number[] = [];
  let down = false;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (down) {
      req.resume();
      req.once('end', () => {
        outageReplies.push(Date.now());
        const body = JSON.stringify({ __type: 'InternalServiceError', Message: 'An error occurred on the server side.' });
        res.writeHead(500, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(body), 'x-amzn-ErrorType': 'InternalServiceError' });
        res.end(body);
      });
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    outageReplies,
    setOutage: (value) => {
      down = value;
    },
    isDown: () => down,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
