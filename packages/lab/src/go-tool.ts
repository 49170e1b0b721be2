// Go command-line tools the tests need (promtool; Jaeger has its wrapper module in jaeger/), built once from the Go module
// proxy with `go install <package>@<version>` and cached under $HERDLESS_CACHE behind a stamp,
// like the control plane: built into a temporary directory and renamed into place with its stamp,
// so a crash mid-build never leaves a half cache. Go is a build tool here, never product code.
import { spawn } from 'node:child_process';
import { access, constants, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './lab-error.js';
import { herdlessCacheDir } from './lab-paths.js';

export interface GoTool {
  /** The binary's name, e.g. "promtool". */
  name: string;
  /** The package path to install, e.g. github.com/prometheus/prometheus/cmd/promtool. */
  pkg: string;
  /** The module version, e.g. v0.316.0. */
  version: string;
}

/** promtool of Prometheus v3.16 (its Go module is versioned v0.316.0). */
export const PROMTOOL: GoTool = { name: 'promtool', pkg: 'github.com/prometheus/prometheus/cmd/promtool', version: 'v0.316.0' };

/** Returns the cached binary's path, building it first when the cache has none for this stamp. */
export async function ensureGoTool(tool: GoTool, opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<string> {
  const cacheDir = opts.cacheDir ?? herdlessCacheDir();
  const dir = join(cacheDir, `${tool.name}-${tool.version}`);
  const bin = join(dir, 'bin', tool.name);
  const stamp = `${tool.pkg}@${tool.version}`;
  if (await isCached(dir, bin, stamp)) return bin;
  const log = opts.log ?? ((line: string) => process.stderr.write(`[lab] ${line}\n`));
  const tmp = join(cacheDir, `.${tool.name}-${tool.version}.build-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(join(tmp, 'bin'), { recursive: true });
  try {
    log(`building ${stamp} into ${dir}`);
    await goInstall(stamp, join(tmp, 'bin'));
    // The stamp is written last: its presence means the binary is complete.
    await writeFile(join(tmp, 'stamp'), `${stamp}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir).catch(async (e: unknown) => {
      // Another process finished the same build first.
      if (!(await isCached(dir, bin, stamp))) throw e;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return bin;
}

async function isCached(dir: string, bin: string, stamp: string): Promise<boolean> {
  try {
    if ((await readFile(join(dir, 'stamp'), 'utf8')).trim() !== stamp) return false;
    await access(bin, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function goInstall(target: string, gobin: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // GOTOOLCHAIN=local: never let `go` fetch another toolchain.
    const child = spawn('go', ['install', '-trimpath', '-ldflags', '-s -w', target], {
      env: { ...process.env, GOBIN: gobin, GOTOOLCHAIN: 'local' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', (cause) => reject(new LabError('GoToolchainMissing', `building ${target} needs Go on PATH: ${cause.message}`, { cause })));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new LabError('ToolchainBuildFailed', `go install ${target} exited with ${code}`))));
  });
}
