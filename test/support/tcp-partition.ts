// A TCP relay that can partition one process from a server: the process is pointed at the
// relay's port, and partition() stops every byte both ways on its open connections (and on new
// ones) without closing them, as a network partition does: the client's commands hang, nothing
// tells it the peer is gone. heal() lets the held bytes through. The lab's fault proxy speaks
// HTTP; Redis speaks RESP over TCP, hence this relay.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpPartition {
  port: number;
  partitioned: boolean;
  partition(): void;
  heal(): void;
  stop(): Promise<void>;
}

export async function startTcpPartition(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpPartition> {
  const pairs = new Set<[Socket, Socket]>();
  let partitioned = false;
  // Held: no longer piped and paused, so what arrives waits in the socket's buffers.
  const hold = ([a, b]: [Socket, Socket]) => {
    a.unpipe(b);
    b.unpipe(a);
    a.pause();
    b.pause();
  };
  const flow = ([a, b]: [Socket, Socket]) => {
    a.pipe(b);
    b.pipe(a);
  };
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    if (partitioned) hold(pair);
    else flow(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`expected a TCP address, found ${String(address)}`);
  return {
    port: address.port,
    get partitioned() {
      return partitioned;
    },
    partition() {
      partitioned = true;
      for (const pair of pairs) hold(pair);
    },
    heal() {
      partitioned = false;
      for (const pair of pairs) flow(pair);
    },
    async stop() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
