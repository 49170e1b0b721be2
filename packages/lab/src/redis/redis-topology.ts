// Redis as production runs it, on loopback for one test: an ACL user with a password, TLS with a
// CA of its own and client certificates, a Sentinel set (master, replica, three sentinels) and a
// three-master Cluster. Each topology says how Herdless reaches it (its --redis-* settings) and
// stops every process it started, even when start failed half-way. Nothing is ever persisted.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCa, issueCertificate } from '../control-plane/pki.js';
import { freeLoopbackPort } from '../free-port.js';
import { forgetDirectory, removeDirectoryOnExit, spawnProcessGroup, type ManagedProcess } from '../process-group.js';
import { waitUntil } from '../wait-until.js';
import { redisArgs } from './start-redis.js';

const run = promisify(execFile);

export const REDIS_TOPOLOGIES = ['standalone', 'password', 'tls', 'sentinel', 'cluster'] as const;
export type RedisTopologyKind = (typeof REDIS_TOPOLOGIES)[number];

/** The password of every topology's servers and users (loopback, one test's lifetime). */
const PASSWORD = 'herdless-test-password';
const ACL_USER = 'herdless';
const MASTER_NAME = 'herdless-master';

export interface RedisNode {
  port: number;
  /** The running server (a new one after restart()). */
  process: ManagedProcess;
  /** Stops the server (SIGTERM; nothing is saved) and starts it again, empty, on the same port, after `downForMs` (an outage). */
  restart(downForMs?: number): Promise<void>;
}

export interface RedisTopology {
  kind: RedisTopologyKind;
  /** Herdless's Redis settings (core's redisConfigShape field names), as a process gets them. */
  settings: Record<string, string>;
  /** The same settings as command-line flags (`--redis-url …`). */
  flags: string[];
  /** Data nodes (the master first); sentinels apart. */
  nodes: RedisNode[];
  sentinels: RedisNode[];
  /** redis-cli against one data node, authenticated as Herdless is (for FLUSHALL, INFO, …). */
  cli(node: RedisNode, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the topology `kind` in a temporary directory of its own. */
export async function startRedisTopology(kind: RedisTopologyKind): Promise<RedisTopology> {
  const dir = await mkdtemp(join(tmpdir(), `herdless-redis-${kind}-`));
  removeDirectoryOnExit(dir);
  const procs: ManagedProcess[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await rm(dir, { recursive: true, force: true });
    forgetDirectory(dir);
  };
  try {
    return { ...(await start(kind, dir, procs)), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

type Started = Omit<RedisTopology, 'stop'>;

async function start(kind: RedisTopologyKind, dir: string, procs: ManagedProcess[]): Promise<Started> {
  const spawnRedis = async (name: string, args: (port: number, nodeDir: string) => string[] | Promise<string[]>, ready: (node: RedisNode) => Promise<boolean>) => {
    const port = await freeLoopbackPort();
    const nodeDir = join(dir, `${name}-${port}`);
    await mkdir(nodeDir, { recursive: true });
    const argv = await args(port, nodeDir);
    const launch = async (node: RedisNode) => {
      node.process = spawnProcessGroup({ name: `redis ${name}`, command: 'redis-server', args: argv, logPath: join(nodeDir, 'redis.log') });
      procs.push(node.process);
      await waitUntil(async () => ((await ready(node).catch(() => false)) ? true : undefined), {
        what: `redis ${name} on port ${port}`,
        timeoutMs: 15_000,
        intervalMs: 50,
        watch: [node.process],
      });
    };
    const node: RedisNode = {
      port,
      process: undefined as unknown as ManagedProcess,
      async restart(downForMs = 0) {
        await node.process.stop();
        if (downForMs > 0) await new Promise((resolve) => setTimeout(resolve, downForMs));
        await launch(node);
      },
    };
    await launch(node);
    return node;
  };
  const cliArgs = (port: number, auth: string[]) => ['-h', '127.0.0.1', '-p', String(port), ...auth, '--no-auth-warning'];
  const redisCli = async (args: string[]) => (await run('redis-cli', args)).stdout.trim();
  const pings = (auth: string[]) => async (node: RedisNode) => (await redisCli([...cliArgs(node.port, auth), 'PING'])) === 'PONG';

  switch (kind) {
    case 'standalone': {
      const node = await spawnRedis('standalone', (port, d) => redisArgs(port, d), pings([]));
      return topology(kind, { redisUrl: `redis://127.0.0.1:${node.port}` }, [node], [], (n, ...a) => redisCli([...cliArgs(n.port, []), ...a]));
    }
    case 'password': {
      // An ACL user, the default user off: only Herdless's credentials get in.
      const auth = ['--user', ACL_USER, '--pass', PASSWORD];
      const node = await spawnRedis('acl', (port, d) => redisArgs(port, d, ['--user', 'default', 'off', '--user', ACL_USER, 'on', `>${PASSWORD}`, '~*', '&*', '+@all']), pings(auth));
      return topology(kind, { redisUrl: `redis://127.0.0.1:${node.port}`, redisUsername: ACL_USER, redisPassword: PASSWORD }, [node], [], (n, ...a) => redisCli([...cliArgs(n.port, auth), ...a]));
    }
    case 'tls': {
      const pkiDir = join(dir, 'pki');
      await mkdir(pkiDir, { recursive: true });
      const ca = await createCa(pkiDir, 'herdless-redis-test-ca');
      const server = await issueCertificate(pkiDir, ca, { name: 'redis-server', commonName: 'redis', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
      const client = await issueCertificate(pkiDir, ca, { name: 'herdless-client', commonName: 'herdless', usage: 'client' });
      const auth = ['--tls', '--cacert', ca.certPath, '--cert', client.certPath, '--key', client.keyPath, '-a', PASSWORD];
      const node = await spawnRedis(
        'tls',
        (port, d) => [
          ...redisArgs(0, d, ['--requirepass', PASSWORD]),
          '--tls-port', String(port),
          '--tls-cert-file', server.certPath,
          '--tls-key-file', server.keyPath,
          '--tls-ca-cert-file', ca.certPath,
          // Clients must show a certificate of the CA: the client certificate path is exercised.
          '--tls-auth-clients', 'yes',
        ],
        pings(auth),
      );
      return topology(
        kind,
        {
          redisUrl: `rediss://127.0.0.1:${node.port}`,
          redisPassword: PASSWORD,
          redisTlsCaFile: ca.certPath,
          redisTlsCertFile: client.certPath,
          redisTlsKeyFile: client.keyPath,
        },
        [node],
        [],
        (n, ...a) => redisCli([...cliArgs(n.port, auth), ...a]),
      );
    }
    case 'sentinel': {
      const auth = ['-a', PASSWORD];
      const dataArgs = ['--requirepass', PASSWORD, '--masterauth', PASSWORD];
      const master = await spawnRedis('master', (port, d) => redisArgs(port, d, dataArgs), pings(auth));
      const replica = await spawnRedis('replica', (port, d) => redisArgs(port, d, [...dataArgs, '--replicaof', '127.0.0.1', String(master.port)]), pings(auth));
      const sentinels: RedisNode[] = [];
      for (let i = 0; i < 3; i++) {
        sentinels.push(
          await spawnRedis(
            `sentinel-${i}`,
            async (port, d) => {
              const conf = join(d, 'sentinel.conf');
              // Sentinel rewrites its config file: it must be its own and writable.
              await writeFile(conf, '');
              return [conf, '--sentinel', '--port', String(port), '--bind', '127.0.0.1', '--dir', d, '--requirepass', PASSWORD,
                '--sentinel', 'monitor', MASTER_NAME, '127.0.0.1', String(master.port), '2',
                '--sentinel', 'auth-pass', MASTER_NAME, PASSWORD,
                '--sentinel', 'down-after-milliseconds', MASTER_NAME, '1000',
                '--sentinel', 'failover-timeout', MASTER_NAME, '10000'];
            },
            async (n) => (await redisCli([...cliArgs(n.port, auth), 'SENTINEL', 'get-master-addr-by-name', MASTER_NAME])).includes(String(master.port)),
          ),
        );
      }
      return topology(
        kind,
        {
          redisUrl: 'redis://127.0.0.1',
          redisPassword: PASSWORD,
          redisSentinels: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
          redisSentinelMasterName: MASTER_NAME,
          redisSentinelPassword: PASSWORD,
        },
        [master, replica],
        sentinels,
        (n, ...a) => redisCli([...cliArgs(n.port, auth), ...a]),
      );
    }
    case 'cluster': {
      const auth = ['-a', PASSWORD];
      const nodes: RedisNode[] = [];
      for (let i = 0; i < 3; i++) {
        nodes.push(
          await spawnRedis(
            `cluster-${i}`,
            // The cluster bus gets a free port of its own: the default (port + 10000) may be taken.
            async (port, d) => redisArgs(port, d, ['--requirepass', PASSWORD, '--masterauth', PASSWORD, '--cluster-enabled', 'yes',
              '--cluster-port', String(await freeLoopbackPort()), '--cluster-config-file', join(d, 'nodes.conf'), '--cluster-node-timeout', '2000']),
            pings(auth),
          ),
        );
      }
      await redisCli(['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes', ...auth, '--no-auth-warning']);
      await waitUntil(
        async () => {
          for (const n of nodes) {
            if (!(await redisCli([...cliArgs(n.port, auth), 'CLUSTER', 'INFO'])).includes('cluster_state:ok')) return undefined;
          }
          return true;
        },
        { what: 'cluster_state:ok on every node', timeoutMs: 20_000, intervalMs: 100, watch: nodes.map((n) => n.process) },
      );
      return topology(
        kind,
        { redisUrl: 'redis://127.0.0.1', redisPassword: PASSWORD, redisClusterNodes: nodes.map((n) => `127.0.0.1:${n.port}`).join(',') },
        nodes,
        [],
        (n, ...a) => redisCli([...cliArgs(n.port, auth), ...a]),
      );
    }
  }
}

function topology(kind: RedisTopologyKind, settings: Record<string, string>, nodes: RedisNode[], sentinels: RedisNode[], cli: RedisTopology['cli']): Started {
  const flags = Object.entries(settings).flatMap(([k, v]) => ['--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()), v]);
  return { kind, settings, flags, nodes, sentinels, cli };
}
