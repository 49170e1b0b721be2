// The production bundle (scripts/bundle.sh: what the image ships) for tests that run Herdless as
// production does. Built once per change of what goes into it, into node_modules/.herdless/,
// and reused: the stamp is a hash of the runtime packages' built files, manifests and the lockfile.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The packages whose files the bundle carries. */
const RUNTIME_PACKAGES = ['cli', 'core', 'providers', 'scheduler', 'worker'];

/** `node <entry> worker …` runs the bundle. */
export function bundleEntry(dir: string): string {
  return join(dir, 'dist', 'main.js');
}

/** Builds the bundle into `dir` (replacing it) with the project's script. */
export function buildBundle(dir: string): void {
  execFileSync('bash', [join(REPO_ROOT, 'scripts', 'bundle.sh'), dir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

function hashTree(hash: ReturnType<typeof createHash>, dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) hashTree(hash, path);
    else hash.update(path).update('\0').update(readFileSync(path)).update('\0');
  }
}

function bundleStamp(): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(REPO_ROOT, 'pnpm-lock.yaml'))).update(readFileSync(join(REPO_ROOT, 'scripts', 'bundle.sh')));
  for (const name of RUNTIME_PACKAGES) {
    const pkg = join(REPO_ROOT, 'packages', name);
    hash.update(readFileSync(join(pkg, 'package.json')));
    hashTree(hash, join(pkg, 'dist'));
    hashTree(hash, join(pkg, 'lua'));
  }
  return hash.digest('hex');
}

let ready: string | undefined;

/**
 * The entry of an up-to-date production bundle of this checkout's build (built first when the
 * build changed; a few seconds). Synchronous so that a process can be spawned right after.
 */
export function productionBundleEntry(): string {
  if (ready) return ready;
  const dir = join(REPO_ROOT, 'node_modules', '.herdless', 'bundle');
  const stampFile = join(dir, '.herdless-stamp');
  const stamp = bundleStamp();
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    const tmp = `${dir}.build-${process.pid}`;
    buildBundle(tmp);
    writeFileSync(join(tmp, '.herdless-stamp'), stamp);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  ready = bundleEntry(dir);
  return ready;
}
