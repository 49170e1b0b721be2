// A fault proxy in front of the API server for one kubeconfig: the proxy presents a serving
// certificate of its own throw-away CA, re-originates TLS to the real server with the
// kubeconfig's CA and client certificate (bearer tokens pass through as headers), and a
// rewritten kubeconfig points the process at the proxy, trusting the proxy's CA by value.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { createCa, issueCertificate } from '../control-plane/pki.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import type { FaultSettings } from './fault-settings.js';

export interface ProxyCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** A fresh CA and a serving certificate for 127.0.0.1/localhost signed by it (openssl, like the control plane's PKI). */
export async function createProxyCertificate(): Promise<ProxyCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'herdless-fault-proxy-pki-'));
  try {
    const ca = await createCa(dir, 'herdless-fault-proxy-ca');
    const serving = await issueCertificate(dir, ca, { name: 'fault-proxy', commonName: 'herdless-fault-proxy', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    return { caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The kubeconfig text with its current context's cluster pointing at `server` and trusting
 * `caPem` (by value); the user entry is kept, with relative file paths made absolute against
 * `baseDir` so the file still works when written elsewhere. Pure, for tests.
 */
export function rewriteKubeconfig(text: string, opts: { server: string; caPem: string; baseDir: string }): string {
  const config = parse(text) as KubeconfigDocument;
  const context = config.contexts?.find((c) => c.name === config['current-context']);
  if (!context) throw new Error(`kubeconfig has no current context (current-context: ${String(config['current-context'])})`);
  const cluster = config.clusters?.find((c) => c.name === context.context?.cluster);
  if (!cluster?.cluster) throw new Error(`kubeconfig has no cluster ${String(context.context?.cluster)} for context ${context.name}`);
  const { 'certificate-authority': _file, 'insecure-skip-tls-verify': _skip, 'tls-server-name': _sni, ...rest } = cluster.cluster;
  cluster.cluster = { ...rest, server: opts.server, 'certificate-authority-data': Buffer.from(opts.caPem, 'utf8').toString('base64') };
  const user = config.users?.find((u) => u.name === context.context?.user)?.user;
  if (user) {
    for (const field of ['client-certificate', 'client-key', 'tokenFile'] as const) {
      const value = user[field];
      if (typeof value === 'string' && !isAbsolute(value)) user[field] = resolve(opts.baseDir, value);
    }
  }
  return stringify(config);
}

interface KubeconfigDocument {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name: string; cluster?: Record<string, unknown> }[];
  users?: { name: string; user?: Record<string, unknown> }[];
}

export interface KubeconfigProxyOptions {
  /** The kubeconfig the process would use without the proxy. */
  kubeconfigPath: string;
  /** Where to write the proxied kubeconfig; default `<kubeconfigPath>.<name>.proxied`. */
  outPath?: string;
  name?: string;
  /** Control endpoint port; 0 = free port (default), false = none. */
  controlPort?: number | false;
  initialFaults?: Partial<FaultSettings>;
  random?: () => number;
  /** Reuse one certificate for several proxies (saves the openssl calls). */
  certificate?: ProxyCertificate;
}

export interface KubeconfigProxy {
  proxy: FaultProxy;
  /** Give this kubeconfig to the process: it reaches the API server only through the proxy. */
  kubeconfigPath: string;
  stop(): Promise<void>;
}

export async function startKubeconfigProxy(opts: KubeconfigProxyOptions): Promise<KubeconfigProxy> {
  const kc = new KubeConfig();
  kc.loadFromFile(opts.kubeconfigPath);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig ${opts.kubeconfigPath} has no current cluster`);
  const user = kc.getCurrentUser();
  const caPem = await pemFrom(cluster.caData, cluster.caFile);
  const certPem = await pemFrom(user?.certData, user?.certFile);
  const keyPem = await pemFrom(user?.keyData, user?.keyFile);
  const certificate = opts.certificate ?? (await createProxyCertificate());
  const name = opts.name ?? 'kube';
  const proxy = await startFaultProxy({
    upstream: cluster.server,
    flavor: 'kubernetes',
    upstreamTls: {
      ...(caPem ? { caPem } : {}),
      ...(certPem ? { certPem } : {}),
      ...(keyPem ? { keyPem } : {}),
      ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
    },
    serveTls: { certPem: certificate.certPem, keyPem: certificate.keyPem },
    name,
    ...(opts.controlPort !== undefined ? { controlPort: opts.controlPort } : {}),
    ...(opts.initialFaults ? { initialFaults: opts.initialFaults } : {}),
    ...(opts.random ? { random: opts.random } : {}),
  });
  const kubeconfigPath = opts.outPath ?? `${opts.kubeconfigPath}.${name}.proxied`;
  try {
    const text = await readFile(opts.kubeconfigPath, 'utf8');
    // 0600: the file holds the same credential as the original.
    await writeFile(kubeconfigPath, rewriteKubeconfig(text, { server: proxy.url, caPem: certificate.caPem, baseDir: dirname(resolve(opts.kubeconfigPath)) }), { mode: 0o600 });
  } catch (err) {
    await proxy.stop();
    throw err;
  }
  return { proxy, kubeconfigPath, stop: () => proxy.stop() };
}

async function pemFrom(data: string | undefined, file: string | undefined): Promise<string | undefined> {
  if (data) return Buffer.from(data, 'base64').toString('utf8');
  if (file) return readFile(file, 'utf8');
  return undefined;
}
