// Where the lab keeps what outlives one run: the cached control-plane binaries. This is the
// only place in the lab that reads the environment (scripts/env.sh exports HERDLESS_CACHE).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function herdlessCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HERDLESS_CACHE) return env.HERDLESS_CACHE;
  const xdg = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'herdless');
}

/** The Go wrapper module that pins the Kubernetes version (packages/lab/toolchain/kubernetes).
 * Resolved from this file, which sits at the same depth in src/ and dist/. */
export function kubernetesToolchainDir(): string {
  return fileURLToPath(new URL('../toolchain/kubernetes/', import.meta.url));
}
