// One real local Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager,
// Kubernetes v1.37.2 from the cache) on free loopback ports, in a run directory of its own,
// with the External Secrets CRDs installed. Owns those processes: stop() (or, failing that,
// this process's exit) ends every one of them and removes the run directory.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { crdManifests, loadKubeConfig } from '@herdless/core';
import { freeLoopbackPorts } from '../free-port.js';
import { forgetDirectory, removeDirectoryOnExit, type ManagedProcess } from '../process-group.js';
import { ensureControlPlaneBinaries, type ControlPlaneBinaries } from '../toolchain.js';
import { waitUntil } from '../wait-until.js';
import { startEtcd } from './etcd.js';
import { answersOk } from './http-probe.js';
import { installCrds } from './install-crds.js';
import { startKubeApiserver } from './kube-apiserver.js';
import { startKubeControllerManager } from './kube-controller-manager.js';
import { writeKubeconfig } from './kubeconfig.js';
import { createControlPlanePki } from './pki.js';

export interface ControlPlaneOptions {
  /** Run directory (kept after stop()); default: a fresh temporary directory, removed by stop(). */
  dir?: string;
  /** CRDs to install and wait for; default: `crdManifests()` of @herdless/core. */
  crds?: object[];
  /** Wait until the controller manager works (it creates the `default` ServiceAccount). Default true. */
  waitForControllers?: boolean;
  /** Deadline for the whole start. Default 60 s. */
  timeoutMs?: number;
  /** Prebuilt binaries; default: ensureControlPlaneBinaries() (builds on first use). */
  binaries?: ControlPlaneBinaries;
  apiserverArgs?: string[];
  controllerManagerArgs?: string[];
}

export interface ControlPlaneTimings {
  /** From start() until /readyz answered 200 (binaries already cached). */
  readyzMs: number;
  /** Until CRDs were Established and controllers ran. */
  totalMs: number;
}

export interface ControlPlane {
  /** Admin kubeconfig (client certificate in system:masters), trusting the run's CA. */
  kubeconfigPath: string;
  server: string;
  caPem: string;
  /** A bearer token for the same admin identity (static token file). */
  adminToken: string;
  dir: string;
  serviceAccountIssuer: string;
  timings: ControlPlaneTimings;
  /** etcd, kube-apiserver and kube-controller-manager (for diagnostics and tests). */
  processes: ReadonlyArray<{ name: string; pid: number; logPath: string }>;
  /** A fresh admin KubeConfig loaded from kubeconfigPath. */
  kubeConfig(): KubeConfig;
  /** Ends controller manager, API server and etcd (SIGTERM, then SIGKILL) and removes the run dir. */
  stop(): Promise<void>;
}

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'herdless-cp-')));
  if (ownsDir) removeDirectoryOnExit(dir);
  const processes: ManagedProcess[] = [];
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Reverse start order: clients before the server, the server before its storage.
    for (const proc of [...processes].reverse()) await proc.stop();
    if (ownsDir) {
      await rm(dir, { recursive: true, force: true });
      forgetDirectory(dir);
    }
  };

  try {
    const binariesPromise = opts.binaries
      ? Promise.resolve(opts.binaries)
      : ensureControlPlaneBinaries({ log: (line) => process.stderr.write(`[lab] ${line}\n`) });
    const [binaries, ports] = await Promise.all([binariesPromise, freeLoopbackPorts(3)]);
    const [etcdClientPort, etcdPeerPort, apiserverPort] = ports as [number, number, number];
    // etcd needs no certificates: it starts while the PKI is generated.
    const etcd = startEtcd({ binary: binaries.etcd, dir, clientPort: etcdClientPort, peerPort: etcdPeerPort });
    processes.push(etcd);
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const pki = await createControlPlanePki(dir);
    const server = `https://127.0.0.1:${apiserverPort}`;
    const adminToken = randomBytes(24).toString('hex');
    const tokenFile = join(dir, 'tokens.csv');
    // token,user,uid,"groups": the static token file format of kube-apiserver.
    await writeFile(tokenFile, `${adminToken},herdless-admin,herdless-admin,"system:masters"\n`, { mode: 0o600 });
    const kubeconfigPath = await writeKubeconfig(join(dir, 'admin.kubeconfig'), {
      name: 'herdless-lab-admin',
      server,
      caPem: pki.ca.certPem,
      credential: { clientCertificatePem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem },
    });
    const controllerManagerKubeconfig = await writeKubeconfig(join(dir, 'controller-manager.kubeconfig'), {
      name: 'herdless-lab-controller-manager',
      server,
      caPem: pki.ca.certPem,
      credential: { clientCertificatePem: pki.controllerManager.certPem, clientKeyPem: pki.controllerManager.keyPem },
    });
    const tls = { caPem: pki.ca.certPem, certPem: pki.admin.certPem, keyPem: pki.admin.keyPem };
    await waitUntil(async () => ((await answersOk(`${etcdUrl}/health`)) ? true : undefined), {
      what: 'etcd /health',
      timeoutMs,
      watch: [etcd],
    });

    const apiserver = startKubeApiserver({
      binary: binaries.kubeApiserver,
      dir,
      port: apiserverPort,
      etcdUrl,
      pki,
      serviceAccountIssuer: SERVICE_ACCOUNT_ISSUER,
      extraArgs: [`--token-auth-file=${tokenFile}`, ...(opts.apiserverArgs ?? [])],
    });
    processes.push(apiserver);
    await waitUntil(async () => ((await answersOk(`${server}/readyz`, tls)) ? true : undefined), {
      what: 'kube-apiserver /readyz',
      timeoutMs,
      watch: [etcd, apiserver],
    });
    const readyzMs = Date.now() - started;

    const controllerManager = startKubeControllerManager({
      binary: binaries.kubeControllerManager,
      dir,
      kubeconfigPath: controllerManagerKubeconfig,
      pki,
      extraArgs: opts.controllerManagerArgs,
    });
    processes.push(controllerManager);

    const kubeConfig = () => loadKubeConfig(kubeconfigPath);
    const kc = kubeConfig();
    await Promise.all([
      installCrds(kc, opts.crds ?? crdManifests(), timeoutMs),
      opts.waitForControllers === false
        ? Promise.resolve()
        : waitForDefaultServiceAccount(kc, timeoutMs, [etcd, apiserver, controllerManager]),
    ]);

    return {
      kubeconfigPath,
      server,
      caPem: pki.ca.certPem,
      adminToken,
      dir,
      serviceAccountIssuer: SERVICE_ACCOUNT_ISSUER,
      timings: { readyzMs, totalMs: Date.now() - started },
      processes: processes.map(({ name, pid, logPath }) => ({ name, pid, logPath })),
      kubeConfig,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The ServiceAccount controller creates `default` in every namespace: its presence in
 * `default` shows the controller manager is up and authorized. */
async function waitForDefaultServiceAccount(kc: KubeConfig, timeoutMs: number, watch: ManagedProcess[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await waitUntil(
    async () => ((await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' })) ? true : undefined),
    { what: 'the controller manager to create ServiceAccount default/default', timeoutMs, intervalMs: 100, watch },
  );
}
