// The reference controller as a lab contender: External Secrets Operator v0.20.4, built once
// from the Go module proxy by the wrapper module in packages/lab/toolchain/eso and cached under
// $HERDLESS_CACHE beside the control plane, with ESO's own CRDs copied next to the binary.
// Go is a build tool here, never product code; ESO's code and binary never enter the repo.
// As for the control plane, a crash mid-build never leaves a half cache (build into a temporary
// directory on the same file system, stamp last, rename into place).
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { access, constants, copyFile, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { LabError } from '../lab-error.js';
import { herdlessCacheDir } from '../lab-paths.js';
import { forgetDirectory, removeDirectoryOnExit } from '../process-group.js';
import { formatDuration, isGoVersionAtLeast, parseGoVersion } from '../toolchain.js';

export const ESO_VERSION = 'v0.20.4';
export const ESO_MODULE = 'github.com/external-secrets/external-secrets';
/** ESO's go.mod declares go 1.25.1. */
const ESO_MIN_GO: readonly [number, number] = [1, 25];
export const ESO_LDFLAGS = '-s -w';

export interface EsoBinary {
  /** The cache entry `<cache>/eso-v0.20.4`, holding `bin/`, `crds/` and `stamp`. */
  dir: string;
  binary: string;
  crdDir: string;
}

export interface EnsureEsoResult extends EsoBinary {
  built: boolean;
  elapsedMs: number;
}

export interface EnsureEsoOptions {
  cacheDir?: string;
  toolchainDir?: string;
  log?: (line: string) => void;
}

/** The wrapper Go module (packages/lab/toolchain/eso), resolved from this file (same depth in src/ and dist/). */
export function esoToolchainDir(): string {
  return fileURLToPath(new URL('../../toolchain/eso/', import.meta.url));
}

export function esoBinary(cacheDir = herdlessCacheDir()): EsoBinary {
  const dir = join(cacheDir, `eso-${ESO_VERSION}`);
  return { dir, binary: join(dir, 'bin', 'external-secrets'), crdDir: join(dir, 'crds') };
}

/** The cache key: what decides the binary's bytes. */
export function esoToolchainStamp(toolchainDir = esoToolchainDir()): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'tools.go']) {
    hash.update(`${file}\0`).update(readFileSync(join(toolchainDir, file))).update('\0');
  }
  hash.update(`ldflags\0${ESO_LDFLAGS}`);
  return hash.digest('hex');
}

/** Returns the cached ESO binary and CRDs, building them first when the cache has none for this stamp. */
export async function ensureEsoBinary(opts: EnsureEsoOptions = {}): Promise<EnsureEsoResult> {
  const started = Date.now();
  const cacheDir = opts.cacheDir ?? herdlessCacheDir();
  const toolchainDir = opts.toolchainDir ?? esoToolchainDir();
  const log = opts.log ?? ((line: string) => process.stderr.write(`[lab] ${line}\n`));
  const eso = esoBinary(cacheDir);
  const stamp = esoToolchainStamp(toolchainDir);
  if (await isCached(eso, stamp)) return { ...eso, built: false, elapsedMs: Date.now() - started };

  await mkdir(cacheDir, { recursive: true });
  const release = await acquireLock(join(cacheDir, `eso-${ESO_VERSION}.lock`), log);
  try {
    if (await isCached(eso, stamp)) return { ...eso, built: false, elapsedMs: Date.now() - started };
    const go = await checkGo();
    log(`building External Secrets Operator ${ESO_VERSION} (the reference controller, a lab contender) with ${go} into ${eso.dir}; a cold build takes about 5 minutes on 2 cores`);
    const tmp = join(cacheDir, `.eso-${ESO_VERSION}.build-${process.pid}`);
    const old = join(cacheDir, `.eso-${ESO_VERSION}.old-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(join(tmp, 'bin'), { recursive: true });
    await mkdir(join(tmp, 'crds'), { recursive: true });
    removeDirectoryOnExit(tmp);
    try {
      await runGo(['build', '-trimpath', '-ldflags', ESO_LDFLAGS, '-o', join(tmp, 'bin', 'external-secrets'), ESO_MODULE], toolchainDir, log, 'go build of ESO');
      await copyEsoCrds(toolchainDir, join(tmp, 'crds'));
      await writeFile(join(tmp, 'stamp'), `${stamp}\n`);
      if (existsSync(eso.dir)) await rename(eso.dir, old);
      await rename(tmp, eso.dir);
      await rm(old, { recursive: true, force: true });
    } finally {
      await rm(tmp, { recursive: true, force: true });
      forgetDirectory(tmp);
    }
    const elapsedMs = Date.now() - started;
    log(`ESO ${ESO_VERSION} built in ${formatDuration(elapsedMs)}`);
    return { ...eso, built: true, elapsedMs };
  } finally {
    await release();
  }
}

/** ESO's own CRDs (config/crds/bases of the module), as installed by its Helm chart. */
export function esoCrdManifests(crdDir = esoBinary().crdDir): object[] {
  const manifests: object[] = [];
  for (const file of readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(crdDir, file), 'utf8'))) {
      const value = doc.toJSON() as { kind?: string } | null;
      if (value?.kind === 'CustomResourceDefinition') manifests.push(value);
    }
  }
  return manifests;
}

async function copyEsoCrds(toolchainDir: string, into: string): Promise<void> {
  const { stdout } = await promisify(execFile)('go', ['list', '-m', '-json', ESO_MODULE], {
    cwd: toolchainDir,
    env: goEnv(),
  });
  const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!moduleDir) throw new LabError('ToolchainBuildFailed', `go list -m ${ESO_MODULE} named no module directory; is the module downloaded?`);
  const bases = join(moduleDir, 'config', 'crds', 'bases');
  const files = readdirSync(bases).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  if (files.length === 0) throw new LabError('ToolchainBuildFailed', `no CRDs found in ${bases}`);
  for (const file of files) await copyFile(join(bases, file), join(into, file));
}

/** GOTOOLCHAIN=local: never let go fetch another toolchain. GOFLAGS=-mod=mod: the wrapper's go.sum
 * starts from ESO's own, which has entries the checksum database here lacks. */
function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };
}

async function isCached(eso: EsoBinary, stamp: string): Promise<boolean> {
  try {
    if ((await readFile(join(eso.dir, 'stamp'), 'utf8')).trim() !== stamp) return false;
    await access(eso.binary, constants.X_OK);
    return readdirSync(eso.crdDir).some((f) => f.endsWith('.yaml'));
  } catch {
    return false;
  }
}

async function checkGo(): Promise<string> {
  let text: string;
  try {
    text = (await promisify(execFile)('go', ['env', 'GOVERSION'])).stdout;
  } catch (cause) {
    throw new LabError('GoToolchainMissing', `building ESO ${ESO_VERSION} needs Go >= ${ESO_MIN_GO.join('.')} on PATH, and \`go\` was not found`, { cause });
  }
  const version = parseGoVersion(text);
  if (!version || !isGoVersionAtLeast(version, ESO_MIN_GO)) {
    throw new LabError('GoToolchainTooOld', `building ESO ${ESO_VERSION} needs Go >= ${ESO_MIN_GO.join('.')}, found ${text.trim() || 'an unknown version'}`);
  }
  return text.trim();
}

export function runGo(args: string[], cwd: string, log: (line: string) => void, what: string, env: NodeJS.ProcessEnv = goEnv()): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
    const heartbeat = setInterval(() => log(`still running ${what} (${formatDuration(Date.now() - started)} so far)…`), 60_000);
    heartbeat.unref();
    child.once('error', (cause) => {
      clearInterval(heartbeat);
      reject(new LabError('ToolchainBuildFailed', `could not run go: ${cause.message}`, { cause }));
    });
    child.once('exit', (code, signal) => {
      clearInterval(heartbeat);
      if (code === 0) resolve();
      else reject(new LabError('ToolchainBuildFailed', `${what} in ${cwd} failed (${signal ?? `exit code ${code}`}); its errors are printed above; nothing was written to the cache`));
    });
  });
}

/** One build at a time per cache: an O_EXCL lock file holding the builder's pid; a stale one is taken over. */
async function acquireLock(path: string, log: (line: string) => void): Promise<() => Promise<void>> {
  let announced = false;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    let alive = false;
    try {
      if (holder) process.kill(holder, 0);
      alive = Boolean(holder);
    } catch (error) {
      alive = (error as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) {
      await rm(path, { force: true });
      continue;
    }
    if (!announced) {
      log(`another process (pid ${holder}) is building ESO; waiting for it`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
}
