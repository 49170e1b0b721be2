// Free TCP ports on the loopback interface, asked of the kernel (bind to port 0) rather than
// guessed, so parallel test runs on one machine do not collide. A port is only free until
// someone binds it: callers start their server right away.
import { createServer, type Server } from 'node:net';

/** `count` distinct free ports (held open together so the kernel cannot hand one out twice). */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, listenOnAnyPort));
  const ports = servers.map((s) => {
    const address = s.address();
    return typeof address === 'object' && address ? address.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

export async function freeLoopbackPort(): Promise<number> {
  const [port] = await freeLoopbackPorts(1);
  return port!;
}

function listenOnAnyPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(server));
  });
}
