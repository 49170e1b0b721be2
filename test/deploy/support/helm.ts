// The real helm (v4.3.2, built and cached by @herdless/lab's ensureHelm) on the chart in
// deploy/chart: render it with values, parse what it rendered, and run lint. Nothing here
// reads the chart's files directly: tests see what helm renders.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { ensureHelm, helmToolchain } from '@herdless/lab';

export const CHART_DIR = fileURLToPath(new URL('../../../deploy/chart/', import.meta.url));
export const LARGE_CLUSTER_VALUES = join(CHART_DIR, 'ci', 'large-cluster.yaml');
/** The Kubernetes version of the local control plane: what helm renders for (kubeVersion, capabilities). */
export const KUBE_VERSION = '1.37.2';

export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** Values files, in order (later wins). */
  valuesFiles?: string[];
  /** Values given inline (written to a file, applied after valuesFiles). */
  values?: object;
  /** Extra API versions helm should assume (e.g. monitoring.coreos.com/v1). */
  apiVersions?: string[];
}

/** The helm binary; builds it first when the cache has none (minutes, once). */
export async function helm(): Promise<string> {
  return (await ensureHelm()).helm;
}

function templateArgs(o: RenderOptions, valuesFile: string | undefined): string[] {
  return [
    'template',
    o.release ?? 'herdless',
    CHART_DIR,
    '--namespace',
    o.namespace ?? 'herdless-system',
    '--kube-version',
    KUBE_VERSION,
    ...(o.apiVersions ?? []).flatMap((v) => ['--api-versions', v]),
    ...(o.valuesFiles ?? []).flatMap((f) => ['--values', f]),
    ...(valuesFile ? ['--values', valuesFile] : []),
  ];
}

/** Inline values as a temporary file (helm reads values from files); remove() deletes it. */
function valuesFile(values: object | undefined): { file?: string; remove(): void } {
  if (!values) return { remove: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'herdless-values-'));
  const file = join(dir, 'values.json');
  writeFileSync(file, JSON.stringify(values));
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function parseManifests(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as KubernetesObject | null)
    .filter((o): o is KubernetesObject => Boolean(o?.kind));
}

/** `helm template`: the rendered objects. Rejects with helm's stderr when rendering fails. */
export async function renderChart(o: RenderOptions = {}): Promise<KubernetesObject[]> {
  const bin = await helm();
  const values = valuesFile(o.values);
  try {
    const { stdout } = await promisify(execFile)(bin, templateArgs(o, values.file), { maxBuffer: 64 * 1024 * 1024 }).catch((e: Error & { stderr?: string }) => {
      throw new Error(e.stderr?.trim() || e.message);
    });
    return parseManifests(stdout);
  } finally {
    values.remove();
  }
}

/** The same, synchronously, with the cached helm (for callers that cannot wait; ensureHelm must have run). */
export function renderChartSync(o: RenderOptions = {}): KubernetesObject[] {
  const values = valuesFile(o.values);
  try {
    return parseManifests(execFileSync(helmToolchain().helm, templateArgs(o, values.file), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
  } finally {
    values.remove();
  }
}

/** Runs helm with arguments; resolves with its output and exit code (never rejects on a non-zero exit). */
export async function runHelm(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = await helm();
  return promisify(execFile)(bin, args, { env, maxBuffer: 64 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: Error & { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message }),
  );
}

/** The objects of one kind (and, given, one component). */
export function objectsOf<T = KubernetesObject & Record<string, any>>(objects: KubernetesObject[], kind: string, component?: string): T[] {
  return objects.filter((o) => o.kind === kind && (!component || o.metadata?.labels?.['app.kubernetes.io/component'] === component)) as T[];
}
