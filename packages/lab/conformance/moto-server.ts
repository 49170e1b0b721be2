// moto_server, the second opinion on our AWS endpoint: a pinned moto[server] (moto-requirements.txt)
// in a private virtual environment under the Herdless cache, created on first use with the
// system's `python3 -m venv` and pip from PyPI, reused while the requirements are unchanged.
// Test tooling only; every server started here is stopped by its stop() (or the lab's exit handlers).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort } from '../src/free-port.js';
import { herdlessCacheDir } from '../src/lab-paths.js';
import { spawnProcessGroup } from '../src/process-group.js';
import { waitUntil } from '../src/wait-until.js';

const run = promisify(execFile);

export const MOTO_VERSION = '5.2.5';
const REQUIREMENTS = fileURLToPath(new URL('./moto-requirements.txt', import.meta.url));

/** Debian's interpreter first: a pyenv shim on PATH may point at another Python per directory. */
const PYTHONS = ['/usr/bin/python3', 'python3'];

export interface MotoServer {
  url: string;
  port: number;
  logPath: string;
  stop(): Promise<void>;
}

/** The venv's python with moto installed; creates the venv when missing or stale. */
export async function ensureMotoVenv(log: (line: string) => void = () => undefined): Promise<string> {
  const requirements = await readFile(REQUIREMENTS, 'utf8');
  const stampWanted = createHash('sha256').update(requirements).digest('hex');
  const dir = join(herdlessCacheDir(), `moto-${MOTO_VERSION}-venv`);
  const python = join(dir, 'bin', 'python');
  const stampPath = join(dir, '.herdless-requirements.sha256');
  const stamp = existsSync(stampPath) ? (await readFile(stampPath, 'utf8')).trim() : '';
  if (stamp === stampWanted && existsSync(python)) return python;

  const systemPython = await findPython();
  log(`creating ${dir} (moto[server]==${MOTO_VERSION}) with ${systemPython}`);
  const started = Date.now();
  await rm(dir, { recursive: true, force: true });
  await mkdir(herdlessCacheDir(), { recursive: true });
  try {
    await run(systemPython, ['-m', 'venv', dir], { timeout: 120_000 });
    await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', REQUIREMENTS], { timeout: 600_000, maxBuffer: 16 << 20 });
  } catch (cause) {
    await rm(dir, { recursive: true, force: true });
    const err = cause as Error & { stderr?: string };
    throw new Error(`installing moto[server]==${MOTO_VERSION} into ${dir} failed: ${err.stderr?.slice(-2_000) ?? err.message}`, { cause });
  }
  // The stamp last: a venv without it is incomplete and is made again.
  await writeFile(stampPath, `${stampWanted}\n`);
  log(`moto venv ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return python;
}

async function findPython(): Promise<string> {
  for (const candidate of PYTHONS) {
    try {
      await run(candidate, ['-c', 'import venv, ensurepip']);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error(`no python3 with venv and ensurepip (tried ${PYTHONS.join(', ')}); on Debian: apt-get install -y python3-venv`);
}

/** moto_server on a free loopback port, in its own process group, logging to `logDir`. */
export async function startMotoServer(opts: { logDir: string; log?: (line: string) => void }): Promise<MotoServer> {
  const python = await ensureMotoVenv(opts.log);
  const port = await freeLoopbackPort();
  const logPath = join(opts.logDir, `moto-${port}.log`);
  const proc = spawnProcessGroup({ name: 'moto_server', command: python, args: ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], logPath });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(
      async () => {
        const res = await fetch(`${url}/moto-api/`);
        return res.status < 500 ? true : undefined;
      },
      { what: `moto_server on ${url}`, timeoutMs: 60_000, intervalMs: 200, watch: [proc] },
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { url, port, logPath, stop: () => proc.stop() };
}
