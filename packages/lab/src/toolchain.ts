// The pinned Kubernetes control plane (kube-apiserver, kube-controller-manager, etcd), built
// once from the Go module proxy by the wrapper module in packages/lab/toolchain/kubernetes and
// cached under $HERDLESS_CACHE. Go is a build tool here, never product code. A crash mid-build
// must never leave a half cache: binaries are built into a temporary directory on the same
// file system and renamed into place only once all three and the stamp are written.
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile, access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LabError } from './lab-error.js';
import { herdlessCacheDir, kubernetesToolchainDir } from './lab-paths.js';
import { removeDirectoryOnExit, forgetDirectory } from './process-group.js';

export const KUBERNETES_VERSION = 'v1.37.2';
export const MIN_GO_VERSION: readonly [number, number] = [1, 26];

/** Version stamping as in Kubernetes' hack/lib/version.sh, so `kubectl version` and
 * `/version` report v1.37.2 and not v0.0.0-master; `-s -w` drops symbols (smaller cache). */
export const CONTROL_PLANE_LDFLAGS = [
  '-s',
  '-w',
  `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
  '-X k8s.io/component-base/version.gitMajor=1',
  '-X k8s.io/component-base/version.gitMinor=37',
  '-X k8s.io/component-base/version.gitTreeState=clean',
  `-X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION}`,
  '-X k8s.io/client-go/pkg/version.gitMajor=1',
  '-X k8s.io/client-go/pkg/version.gitMinor=37',
].join(' ');

const BUILD_TARGETS = [
  'k8s.io/kubernetes/cmd/kube-apiserver',
  'k8s.io/kubernetes/cmd/kube-controller-manager',
  './etcd',
];

export interface ControlPlaneBinaries {
  /** The cache entry: `<cache>/k8s-v1.37.2`, holding `bin/` and `stamp`. */
  dir: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  etcd: string;
}

export interface EnsureResult extends ControlPlaneBinaries {
  /** False when the cache already held binaries for this stamp. */
  built: boolean;
  elapsedMs: number;
}

export interface EnsureOptions {
  cacheDir?: string;
  toolchainDir?: string;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

export function controlPlaneBinaries(cacheDir = herdlessCacheDir()): ControlPlaneBinaries {
  const dir = join(cacheDir, `k8s-${KUBERNETES_VERSION}`);
  const bin = join(dir, 'bin');
  return {
    dir,
    kubeApiserver: join(bin, 'kube-apiserver'),
    kubeControllerManager: join(bin, 'kube-controller-manager'),
    etcd: join(bin, 'etcd'),
  };
}

/** The cache key: everything that decides the bytes of the binaries we build. */
export function toolchainStamp(toolchainDir = kubernetesToolchainDir()): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'etcd/main.go']) {
    hash.update(`${file}\0`).update(readFileSync(join(toolchainDir, file))).update('\0');
  }
  hash.update(`ldflags\0${CONTROL_PLANE_LDFLAGS}`);
  return hash.digest('hex');
}

/** `go1.26.8` → [1, 26]; undefined for anything else (devel builds included). */
export function parseGoVersion(text: string): [number, number] | undefined {
  const match = /go(\d+)\.(\d+)/.exec(text.trim());
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

export function isGoVersionAtLeast(found: [number, number], min: readonly [number, number] = MIN_GO_VERSION): boolean {
  return found[0] > min[0] || (found[0] === min[0] && found[1] >= min[1]);
}

/** Returns the cached binaries, building them first when the cache has none for this stamp. */
export async function ensureControlPlaneBinaries(opts: EnsureOptions = {}): Promise<EnsureResult> {
  const started = Date.now();
  const cacheDir = opts.cacheDir ?? herdlessCacheDir();
  const toolchainDir = opts.toolchainDir ?? kubernetesToolchainDir();
  const log = opts.log ?? ((line: string) => process.stderr.write(`[lab] ${line}\n`));
  const binaries = controlPlaneBinaries(cacheDir);
  const stamp = toolchainStamp(toolchainDir);

  if (await isCached(binaries, stamp)) return { ...binaries, built: false, elapsedMs: Date.now() - started };

  await mkdir(cacheDir, { recursive: true });
  const release = await acquireBuildLock(join(cacheDir, `k8s-${KUBERNETES_VERSION}.lock`), log);
  try {
    // Another process may have finished the build while we waited for the lock.
    if (await isCached(binaries, stamp)) return { ...binaries, built: false, elapsedMs: Date.now() - started };
    const go = await checkGo();
    log(
      `building the local control plane (kube-apiserver, kube-controller-manager, etcd; Kubernetes ${KUBERNETES_VERSION}) ` +
        `with ${go} into ${binaries.dir}; a cold build takes about 8 minutes on 2 cores`,
    );
    await buildInto(binaries, stamp, toolchainDir, log);
    const elapsedMs = Date.now() - started;
    log(`control plane built in ${formatDuration(elapsedMs)}`);
    return { ...binaries, built: true, elapsedMs };
  } finally {
    await release();
  }
}

async function isCached(binaries: ControlPlaneBinaries, stamp: string): Promise<boolean> {
  try {
    const found = (await readFile(join(binaries.dir, 'stamp'), 'utf8')).trim();
    if (found !== stamp) return false;
    for (const bin of [binaries.kubeApiserver, binaries.kubeControllerManager, binaries.etcd]) {
      await access(bin, constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

async function checkGo(): Promise<string> {
  let text: string;
  try {
    text = (await promisify(execFile)('go', ['env', 'GOVERSION'])).stdout;
  } catch (cause) {
    throw new LabError(
      'GoToolchainMissing',
      `building the local control plane needs Go >= ${MIN_GO_VERSION.join('.')} on PATH, and \`go\` was not found. ` +
        'Install Go (the official tarball into /usr/local/go, or a distribution package if it is new enough), ' +
        'add its bin directory to PATH, and run scripts/setup.sh again.',
      { cause },
    );
  }
  const version = parseGoVersion(text);
  if (!version || !isGoVersionAtLeast(version)) {
    throw new LabError(
      'GoToolchainTooOld',
      `building the local control plane needs Go >= ${MIN_GO_VERSION.join('.')} (Kubernetes ${KUBERNETES_VERSION} ` +
        `declares go ${MIN_GO_VERSION.join('.')} in its go.mod), found ${text.trim() || 'an unknown version'}. ` +
        'Install a newer Go and put it first on PATH.',
    );
  }
  return text.trim();
}

async function buildInto(
  binaries: ControlPlaneBinaries,
  stamp: string,
  toolchainDir: string,
  log: (line: string) => void,
): Promise<void> {
  await writeCacheEntry(binaries.dir, stamp, async (tmp) => {
    await mkdir(join(tmp, 'bin'), { recursive: true });
    await runGoBuild(join(tmp, 'bin'), toolchainDir, log);
  });
}

/**
 * Fills a cache entry so that a crash never leaves half of one: `fill` writes into a temporary
 * directory beside `dir` (same file system, so the renames are atomic), the stamp is written
 * last (its presence means the entry is complete), then the directory replaces the old entry.
 */
export async function writeCacheEntry(dir: string, stamp: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.build-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  removeDirectoryOnExit(tmp);
  try {
    await fill(tmp);
    await writeFile(join(tmp, 'stamp'), `${stamp}\n`);
    if (existsSync(dir)) await rename(dir, old);
    await rename(tmp, dir);
    await rm(old, { recursive: true, force: true });
  } finally {
    await rm(tmp, { recursive: true, force: true });
    forgetDirectory(tmp);
  }
}

function runGoBuild(outDir: string, toolchainDir: string, log: (line: string) => void): Promise<void> {
  const args = ['build', '-trimpath', '-ldflags', CONTROL_PLANE_LDFLAGS, '-o', `${outDir}/`, ...BUILD_TARGETS];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // GOTOOLCHAIN=local: we checked the version; never let `go` fetch another toolchain.
    const child = spawn('go', args, {
      cwd: toolchainDir,
      env: { ...process.env, GOTOOLCHAIN: 'local' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const heartbeat = setInterval(
      () => log(`still building the control plane (${formatDuration(Date.now() - started)} so far)…`),
      60_000,
    );
    heartbeat.unref();
    child.once('error', (cause) => {
      clearInterval(heartbeat);
      reject(new LabError('ToolchainBuildFailed', `could not run go build: ${cause.message}`, { cause }));
    });
    child.once('exit', (code, signal) => {
      clearInterval(heartbeat);
      if (code === 0) resolve();
      else
        reject(
          new LabError(
            'ToolchainBuildFailed',
            `go build of the control plane in ${toolchainDir} failed (${signal ?? `exit code ${code}`}); ` +
              'its errors are printed above; nothing was written to the cache',
          ),
        );
    });
  });
}

/** One build at a time per cache (two cores cannot afford two): an O_EXCL lock file holding
 * the builder's pid; a lock whose process is gone is stale and taken over. */
export async function acquireBuildLock(path: string, log: (line: string) => void, what = 'the control plane'): Promise<() => Promise<void>> {
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
    if (!holder || !isAlive(holder)) {
      await rm(path, { force: true });
      continue;
    }
    if (!announced) {
      log(`another process (pid ${holder}) is building ${what}; waiting for it`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
