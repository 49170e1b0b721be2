// The AWS SDK's transport on undici, against plain HTTP servers on real sockets: a store that
// never answers fails the call as a transient ProviderUnavailable instead of holding the worker's
// slot, and a destroyed client closes its connections. Reads through the real SDK against our
// AWS endpoint are in aws-secrets-manager.test.ts and aws-parameter-store.test.ts.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Reasons } from '@herdless/core';
import { waitUntil } from '@herdless/lab';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyAwsError } from '../src/aws/classify-aws-error.js';
import { UndiciRequestHandler } from '../src/aws/undici-request-handler.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' };

/** A server that keeps count of its open connections; `answer` false never replies. */
async function startServer(answer: boolean): Promise<{ url: string; open: () => number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    req.resume();
    if (!answer) return;
    req.on('end', () => {
      // Both sides would keep an idle connection for minutes: only destroy() closes it.
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'keep-alive': 'timeout=600' });
      res.end(JSON.stringify({ Name: 'db', VersionId: 'v1', SecretString: 'value' }));
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 0;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, open: () => sockets.size, server };
}

function clientOf(url: string, requestTimeoutMs: number): SecretsManagerClient {
  return new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: url,
    credentials,
    maxAttempts: 1,
    requestHandler: new UndiciRequestHandler({ connectionTimeoutMs: 3_000, requestTimeoutMs }),
  });
}

describe('the AWS SDK transport on undici', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a store that accepts the connection but never replies fails the call as ProviderUnavailable', async () => {
    const { url, server } = await startServer(false);
    servers.push(server);
    const client = clientOf(url, 300);
    try {
      const err = await client.send(new GetSecretValueCommand({ SecretId: 'db' })).then(
        () => undefined,
        (e: unknown) => e,
      );
      const classified = classifyAwsError(err, { operation: 'GetSecretValue', key: 'db' });
      expect(classified.reason).toBe(Reasons.ProviderUnavailable);
      expect(classified.retry).toBe('transient');
    } finally {
      client.destroy();
    }
  });

  it('a read is answered through it, and destroying the client closes its connections', async () => {
    const { url, open, server } = await startServer(true);
    servers.push(server);
    const client = clientOf(url, 10_000);
    const out = await client.send(new GetSecretValueCommand({ SecretId: 'db' }));
    expect(out.SecretString).toBe('value');
    expect(open()).toBe(1);
    client.destroy();
    await waitUntil(() => (open() === 0 ? true : undefined), 10_000, () => `${open()} connections open`);
  });
});
