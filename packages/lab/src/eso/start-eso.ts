// Runs the real External Secrets Operator (the cached v0.20.4 binary) against a local control
// plane and our AWS endpoint, as a lab contender. Owns that one process: stop() (or this
// process's exit, through the lab's process groups) ends it. Records the exact flags it ran
// with, because the results must say which ESO was measured.
import { join } from 'node:path';
import { freeLoopbackPorts } from '../free-port.js';
import { answersOk } from '../control-plane/http-probe.js';
import type { ManagedProcess } from '../process-group.js';
import { startServedProcess } from '../served-process.js';
import { ensureEsoBinary, ESO_VERSION } from './eso-toolchain.js';

export interface EsoOptions {
  kubeconfigPath: string;
  /** Our AWS endpoint, handed to ESO as AWS_SECRETSMANAGER_ENDPOINT. */
  awsEndpointUrl: string;
  /** Watch only this namespace (ESO's --namespace); default all. */
  namespace?: string;
  /** ESO's --concurrent (its default is 1). */
  concurrent?: number;
  /** ESO's --client-qps and --client-burst (defaults 50 and 100). */
  clientQps?: number;
  clientBurst?: number;
  /** ESO's --loglevel (default here: error, so logging does not eat the lab's two cores). */
  logLevel?: string;
  /** Further flags, verbatim. */
  extraArgs?: string[];
  /** Further environment, e.g. AWS_SSM_ENDPOINT and AWS_STS_ENDPOINT for Parameter Store and roles. */
  env?: Record<string, string>;
  binary?: string;
  timeoutMs?: number;
}

export interface EsoProcess {
  version: string;
  pid: number;
  /** Every flag ESO was started with (ports included), for the results. */
  flags: string[];
  /** http://127.0.0.1:<port>/metrics: controller-runtime and ESO metrics (workqueue depth, reconcile counts). */
  metricsUrl: string;
  logPath: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export async function startEso(opts: EsoOptions): Promise<EsoProcess> {
  const binary = opts.binary ?? (await ensureEsoBinary()).binary;
  const [metricsPort, livePort] = (await freeLoopbackPorts(2)) as [number, number];
  const flags = [
    `--metrics-addr=127.0.0.1:${metricsPort}`,
    `--live-addr=127.0.0.1:${livePort}`,
    `--loglevel=${opts.logLevel ?? 'error'}`,
    ...(opts.namespace ? [`--namespace=${opts.namespace}`] : []),
    ...(opts.concurrent !== undefined ? [`--concurrent=${opts.concurrent}`] : []),
    ...(opts.clientQps !== undefined ? [`--client-qps=${opts.clientQps}`] : []),
    ...(opts.clientBurst !== undefined ? [`--client-burst=${opts.clientBurst}`] : []),
    ...(opts.extraArgs ?? []),
  ];
  const served = await startServedProcess({
    dirPrefix: 'eso',
    spawn: (dir) => ({
      name: 'external-secrets',
      command: binary,
      args: flags,
      logPath: join(dir, 'external-secrets.log'),
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        KUBECONFIG: opts.kubeconfigPath,
        AWS_SECRETSMANAGER_ENDPOINT: opts.awsEndpointUrl,
        // Static credentials come from the SecretStore; never probe the instance metadata service.
        AWS_EC2_METADATA_DISABLED: 'true',
        ...opts.env,
      },
    }),
    ready: () => answersOk(`http://127.0.0.1:${livePort}/healthz`),
    what: `ESO ${ESO_VERSION} /healthz`,
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
  return {
    version: ESO_VERSION,
    pid: served.process.pid,
    flags,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    logPath: served.process.logPath,
    process: served.process,
    stop: served.stop,
  };
}
