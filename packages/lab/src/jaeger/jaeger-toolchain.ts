// The trace backend of the lab and the tests: Jaeger v1.75.0 (`cmd/jaeger`, the OpenTelemetry
// Collector based all-in-one), built once from the Go module proxy by the wrapper module in
// packages/lab/toolchain/jaeger (its `tool` line pins it) and cached under $HERDLESS_CACHE behind
// a stamp (a hash of the wrapper's go.mod and go.sum and the flags). Built into a temporary
// directory, stamped last and renamed into place, so a crash mid-build never leaves a half cache.
// Go is a build tool here, never product code.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { access, constants, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runGo } from '../eso/eso-toolchain.js';
import { herdlessCacheDir } from '../lab-paths.js';
import { forgetDirectory, removeDirectoryOnExit } from '../process-group.js';
import { formatDuration } from '../toolchain.js';

export const JAEGER_VERSION = 'v1.75.0';
export const JAEGER_PACKAGE = 'github.com/jaegertracing/jaeger/cmd/jaeger';
const JAEGER_LDFLAGS = '-s -w';

export interface EnsureJaegerResult {
  binary: string;
  built: boolean;
  elapsedMs: number;
}

/** The wrapper Go module (packages/lab/toolchain/jaeger), resolved from this file (same depth in src/ and dist/). */
export function jaegerToolchainDir(): string {
  return fileURLToPath(new URL('../../toolchain/jaeger/', import.meta.url));
}

/** The cache key: what decides the binary's bytes. */
export function jaegerToolchainStamp(toolchainDir = jaegerToolchainDir()): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum']) hash.update(`${file}\0`).update(readFileSync(join(toolchainDir, file))).update('\0');
  return hash.update(`ldflags\0${JAEGER_LDFLAGS}`).digest('hex');
}

export function jaegerBinary(cacheDir = herdlessCacheDir()): string {
  return join(cacheDir, `jaeger-${JAEGER_VERSION}`, 'bin', 'jaeger');
}

/** Returns the cached Jaeger binary, building it first when the cache has none for this stamp (about 9 minutes cold on 2 cores). */
export async function ensureJaegerBinary(opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<EnsureJaegerResult> {
  const started = Date.now();
  const cacheDir = opts.cacheDir ?? herdlessCacheDir();
  const log = opts.log ?? ((line: string) => process.stderr.write(`[lab] ${line}\n`));
  const toolchainDir = jaegerToolchainDir();
  const dir = join(cacheDir, `jaeger-${JAEGER_VERSION}`);
  const binary = jaegerBinary(cacheDir);
  const stamp = jaegerToolchainStamp(toolchainDir);
  if (await isCached(dir, binary, stamp)) return { binary, built: false, elapsedMs: Date.now() - started };
  log(`building Jaeger ${JAEGER_VERSION} (the trace backend of the lab and the tests) into ${dir}; a cold build takes about 9 minutes on 2 cores`);
  const tmp = join(cacheDir, `.jaeger-${JAEGER_VERSION}.build-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(join(tmp, 'bin'), { recursive: true });
  removeDirectoryOnExit(tmp);
  try {
    // GOFLAGS=-mod=mod as for ESO; GOTOOLCHAIN=local: never let go fetch another toolchain.
    const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };
    await runGo(['build', '-trimpath', '-ldflags', JAEGER_LDFLAGS, '-o', join(tmp, 'bin', 'jaeger'), JAEGER_PACKAGE], toolchainDir, log, 'go build of Jaeger', env);
    await writeFile(join(tmp, 'stamp'), `${stamp}\n`);
    if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir).catch(async (e: unknown) => {
      // Another process finished the same build first.
      if (!(await isCached(dir, binary, stamp))) throw e;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
    forgetDirectory(tmp);
  }
  const elapsedMs = Date.now() - started;
  log(`Jaeger ${JAEGER_VERSION} built in ${formatDuration(elapsedMs)}`);
  return { binary, built: true, elapsedMs };
}

async function isCached(dir: string, binary: string, stamp: string): Promise<boolean> {
  try {
    if ((await readFile(join(dir, 'stamp'), 'utf8')).trim() !== stamp) return false;
    await access(binary, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
