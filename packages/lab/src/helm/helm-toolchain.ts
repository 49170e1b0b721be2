// The real helm (helm.sh/helm/v4 v4.3.2) that the chart's tests run, built once from the Go
// module proxy and cached under $HERDLESS_CACHE beside the control plane, with the upstream
// CRDs a server-side dry run of the chart needs (prometheus-operator's ServiceMonitor and
// PrometheusRule, KEDA's ScaledObject and TriggerAuthentication), taken from those projects' modules at pinned versions.
// Test tooling only: neither helm nor the CRDs enter the repository. As for the control plane,
// a crash mid-build never leaves a half cache (writeCacheEntry).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runGo } from '../eso/eso-toolchain.js';
import { LabError } from '../lab-error.js';
import { herdlessCacheDir } from '../lab-paths.js';
import { acquireBuildLock, formatDuration, isGoVersionAtLeast, parseGoVersion, writeCacheEntry } from '../toolchain.js';

export const HELM_VERSION = 'v4.3.2';
const HELM_PACKAGE = 'helm.sh/helm/v4/cmd/helm';
/** helm's go.mod declares go 1.26.0. */
const HELM_MIN_GO: readonly [number, number] = [1, 26];
/** As helm's Makefile stamps a release: `helm version` reports v4.3.2, not "unreleased". */
export const HELM_LDFLAGS = [
  '-s',
  '-w',
  `-X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}`,
  '-X helm.sh/helm/v4/internal/version.metadata=',
  '-X helm.sh/helm/v4/internal/version.gitTreeState=clean',
].join(' ');

/** The third-party CRDs the chart's optional objects need, each from its project's module. */
export const UPSTREAM_CRDS = [
  {
    module: 'github.com/prometheus-operator/prometheus-operator',
    version: 'v0.85.0',
    files: ['example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml', 'example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml'],
  },
  // v2.21.1 declares go 1.27.4; v2.21.0 is the newest this Go builds with.
  { module: 'github.com/kedacore/keda/v2', version: 'v2.21.0', files: ['config/crd/bases/keda.sh_scaledobjects.yaml', 'config/crd/bases/keda.sh_triggerauthentications.yaml'] },
] as const;

export interface HelmToolchain {
  /** The cache entry `<cache>/helm-v4.3.2`, holding `bin/helm`, `crds/` and `stamp`. */
  dir: string;
  helm: string;
  /** The upstream CRDs (ServiceMonitor, PrometheusRule, ScaledObject, TriggerAuthentication), one file each. */
  crdDir: string;
}

export interface EnsureHelmResult extends HelmToolchain {
  built: boolean;
  elapsedMs: number;
}

export function helmToolchain(cacheDir = herdlessCacheDir()): HelmToolchain {
  const dir = join(cacheDir, `helm-${HELM_VERSION}`);
  return { dir, helm: join(dir, 'bin', 'helm'), crdDir: join(dir, 'crds') };
}

/** The cache key: what decides the binary's and the CRDs' bytes. */
export function helmToolchainStamp(): string {
  return createHash('sha256').update(JSON.stringify({ HELM_PACKAGE, HELM_VERSION, HELM_LDFLAGS, UPSTREAM_CRDS })).digest('hex');
}

/** Returns the cached helm and upstream CRDs, building and fetching them first when the cache has none for this stamp. */
export async function ensureHelm(opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<EnsureHelmResult> {
  const started = Date.now();
  const cacheDir = opts.cacheDir ?? herdlessCacheDir();
  const log = opts.log ?? ((line: string) => process.stderr.write(`[lab] ${line}\n`));
  const toolchain = helmToolchain(cacheDir);
  const stamp = helmToolchainStamp();
  if (await isCached(toolchain, stamp)) return { ...toolchain, built: false, elapsedMs: Date.now() - started };

  await mkdir(cacheDir, { recursive: true });
  const release = await acquireBuildLock(join(cacheDir, `helm-${HELM_VERSION}.lock`), log, `helm ${HELM_VERSION}`);
  try {
    if (await isCached(toolchain, stamp)) return { ...toolchain, built: false, elapsedMs: Date.now() - started };
    const go = await checkGo();
    log(`building helm ${HELM_VERSION} (the chart's tests run it) with ${go} into ${toolchain.dir}, with the upstream CRDs of ${UPSTREAM_CRDS.map((c) => `${c.module}@${c.version}`).join(' and ')}`);
    await writeCacheEntry(toolchain.dir, stamp, async (tmp) => {
      // `go install pkg@version` builds with helm's own go.mod and go.sum, checked against the
      // checksum database; CGO off as helm's release builds (a static binary).
      const env = { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOBIN: join(tmp, 'bin') };
      await runGo(['install', '-trimpath', '-ldflags', HELM_LDFLAGS, `${HELM_PACKAGE}@${HELM_VERSION}`], tmp, log, `go install of helm ${HELM_VERSION}`, env);
      await mkdir(join(tmp, 'crds'));
      await copyUpstreamCrds(tmp, join(tmp, 'crds'));
    });
    const elapsedMs = Date.now() - started;
    log(`helm ${HELM_VERSION} and the upstream CRDs ready in ${formatDuration(elapsedMs)}`);
    return { ...toolchain, built: true, elapsedMs };
  } finally {
    await release();
  }
}

/** `go mod download -json` of each pinned module, then the named files out of its directory. */
async function copyUpstreamCrds(cwd: string, into: string): Promise<void> {
  const { stdout } = await promisify(execFile)('go', ['mod', 'download', '-json', ...UPSTREAM_CRDS.map((c) => `${c.module}@${c.version}`)], {
    cwd,
    env: { ...process.env, GOTOOLCHAIN: 'local' },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((cause: Error & { stdout?: string }) => {
    throw new LabError('ToolchainBuildFailed', `go mod download of the upstream CRD modules failed: ${cause.stdout || cause.message}`, { cause });
  });
  // One JSON object per module, concatenated.
  const modules = JSON.parse(`[${stdout.trim().replace(/\}\s*\{/g, '},{')}]`) as Array<{ Path: string; Dir?: string; Error?: string }>;
  for (const crd of UPSTREAM_CRDS) {
    const found = modules.find((m) => m.Path === crd.module);
    if (!found?.Dir) throw new LabError('ToolchainBuildFailed', `go mod download named no directory for ${crd.module}@${crd.version}${found?.Error ? `: ${found.Error}` : ''}`);
    for (const file of crd.files) await copyFile(join(found.Dir, file), join(into, file.split('/').at(-1) as string));
  }
}

async function checkGo(): Promise<string> {
  const text = await promisify(execFile)('go', ['env', 'GOVERSION']).then(
    (r) => r.stdout.trim(),
    (cause: unknown) => {
      throw new LabError('GoToolchainMissing', `building helm ${HELM_VERSION} needs Go >= ${HELM_MIN_GO.join('.')} on PATH, and \`go\` was not found`, { cause });
    },
  );
  const version = parseGoVersion(text);
  if (!version || !isGoVersionAtLeast(version, HELM_MIN_GO)) {
    throw new LabError('GoToolchainTooOld', `building helm ${HELM_VERSION} needs Go >= ${HELM_MIN_GO.join('.')}, found ${text || 'an unknown version'}`);
  }
  return text;
}

async function isCached(toolchain: HelmToolchain, stamp: string): Promise<boolean> {
  try {
    if ((await readFile(join(toolchain.dir, 'stamp'), 'utf8')).trim() !== stamp) return false;
    await access(toolchain.helm, constants.X_OK);
    for (const crd of UPSTREAM_CRDS) for (const file of crd.files) await access(join(toolchain.crdDir, file.split('/').at(-1) as string));
    return true;
  } catch {
    return false;
  }
}
