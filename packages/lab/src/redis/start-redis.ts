// A private redis-server for one test run or lab: a free loopback port, no persistence, its
// own temporary directory. Redis holds only rebuildable state in Herdless, so nothing is
// ever saved. stop() (or this process's exit) ends it, even when start failed half-way.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { freeLoopbackPort } from '../free-port.js';
import { LabError } from '../lab-error.js';
import { startServedProcess } from '../served-process.js';
import { pingRedis } from './ping-redis.js';

export interface RedisOptions {
  /** Default `redis-server` from PATH. */
  binary?: string;
  timeoutMs?: number;
  /** Extra `--flag value` arguments (e.g. ['--maxmemory', '64mb']). */
  extraArgs?: string[];
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  host: string;
  port: number;
  /** The redis-server process (the lab charges its CPU and memory to the contender). */
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const binary = opts.binary ?? 'redis-server';
  assertInstalled(binary);
  const port = await freeLoopbackPort();
  const served = await startServedProcess({
    dirPrefix: 'redis',
    spawn: (dir) => ({ name: 'redis-server', command: binary, args: redisArgs(port, dir, opts.extraArgs), logPath: join(dir, 'redis.log') }),
    ready: () => pingRedis('127.0.0.1', port),
    what: `redis-server on port ${port}`,
    timeoutMs: opts.timeoutMs ?? 10_000,
    intervalMs: 25,
  });
  return { url: `redis://127.0.0.1:${port}`, host: '127.0.0.1', port, pid: served.process.pid, dir: served.dir, stop: served.stop };
}

export function redisArgs(port: number, dir: string, extraArgs: string[] = []): string[] {
  return [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    // No RDB snapshots and no AOF: nothing of a test run is worth keeping.
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    ...extraArgs,
  ];
}

function assertInstalled(binary: string): void {
  try {
    execFileSync(binary, ['--version'], { stdio: 'ignore' });
  } catch (cause) {
    throw new LabError(
      'RedisServerMissing',
      `${binary} is not installed or not on PATH; scripts/setup.sh installs it (apt-get install redis-server)`,
      { cause },
    );
  }
}
