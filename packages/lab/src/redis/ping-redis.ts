// Readiness of a Redis server without a client library: one RESP PING over a raw socket.
import { connect } from 'node:net';

export function pingRedis(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      // +PONG when ready; -LOADING while a dataset loads (never here: no persistence).
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}
