// ESO v0.20.4's template engine v2 (with its rewrite, key conversion and decoding steps) as a
// WebAssembly module for the worker: built once from the Go module proxy by the wrapper module
// in packages/lab/toolchain/eso-template (GOOS=wasip1, -buildmode=c-shared) and cached under
// $HERDLESS_CACHE/eso-template-v0.20.4/ behind a stamp. Go is a build tool here; ESO's code and
// the module never enter the repo. Built into a temporary directory, stamp last, renamed into place.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { herdlessCacheDir } from '../lab-paths.js';
import { formatDuration } from '../toolchain.js';
import { ESO_VERSION, runGo } from './eso-toolchain.js';

export const ESO_TEMPLATE_WASM_FILE = 'eso-template.wasm';
const LDFLAGS = '-s -w';

/** The wrapper Go module, resolved from this file (same depth in src/ and dist/). */
export function esoTemplateToolchainDir(): string {
  return fileURLToPath(new URL('../../toolchain/eso-template/', import.meta.url));
}

/** `<cache>/eso-template-v0.20.4/eso-template.wasm`: the worker's default --template-engine. */
export function esoTemplateWasmPath(cacheDir = herdlessCacheDir()): string {
  return join(cacheDir, `eso-template-${ESO_VERSION}`, ESO_TEMPLATE_WASM_FILE);
}

/** The cache key: what decides the module's bytes. */
export function esoTemplateStamp(toolchainDir = esoTemplateToolchainDir()): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) {
    hash.update(`${file}\0`).update(readFileSync(join(toolchainDir, file))).update('\0');
  }
  return hash.update(`ldflags\0${LDFLAGS}`).digest('hex');
}

export async function ensureEsoTemplateWasm(
  opts: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<{ path: string; built: boolean; elapsedMs: number }> {
  const started = Date.now();
  const cacheDir = opts.cacheDir ?? herdlessCacheDir();
  const log = opts.log ?? ((line: string) => process.stderr.write(`[lab] ${line}\n`));
  const toolchainDir = esoTemplateToolchainDir();
  const path = esoTemplateWasmPath(cacheDir);
  const dir = join(path, '..');
  const stamp = esoTemplateStamp(toolchainDir);
  const cached = async (): Promise<boolean> => {
    try {
      await access(path);
      return (await readFile(join(dir, 'stamp'), 'utf8')).trim() === stamp;
    } catch {
      return false;
    }
  };
  if (await cached()) return { path, built: false, elapsedMs: Date.now() - started };
  log(`building ESO ${ESO_VERSION}'s template engine as WebAssembly into ${dir}; about 5 minutes cold on 2 cores`);
  const tmp = join(cacheDir, `.eso-template-${ESO_VERSION}.build-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await runGo(
      ['build', '-trimpath', '-ldflags', LDFLAGS, '-buildmode=c-shared', '-o', join(tmp, ESO_TEMPLATE_WASM_FILE), '.'],
      toolchainDir,
      log,
      'go build of the ESO template engine (wasip1)',
      { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', GOOS: 'wasip1', GOARCH: 'wasm' },
    );
    await writeFile(join(tmp, 'stamp'), `${stamp}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir).catch(async (e: unknown) => {
      if (!(await cached())) throw e; // another process finished the same build first
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const elapsedMs = Date.now() - started;
  log(`ESO template engine built in ${formatDuration(elapsedMs)}`);
  return { path, built: true, elapsedMs };
}
