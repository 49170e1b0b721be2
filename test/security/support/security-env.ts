// What the security suite's scenarios stand on: the run's control plane and Redis, our AWS
// endpoint, namespaces made for one scenario (deleted after it), and Herdless as a tenant's
// cluster runs it — a scheduler and workers as separate processes, each with its own
// ServiceAccount bound by the chart's RBAC, each serving /metrics on a loopback port.
// Everything started here is stopped by `stop()`, which the scenario calls in afterAll.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startAwsEndpointProcess, type LabAwsEndpoint } from '@herdless/cli';
import { createServiceAccountKubeconfig, freeLoopbackPorts, scrapeLoopbackMetrics, startAwsEndpoint, type AwsEndpoint, type AwsEndpointOptions } from '@herdless/lab';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS, mergePatch, statusCodeOf } from '@herdless/core';
import { waitUntil } from '../../support/index.js';
import { adminClients, createStore, type AdminClients } from '../../e2e/support/kube.js';
import { spawnHerdless, stopAll, type HerdlessProcess } from '../../e2e/support/processes.js';
import { bindChartRbac } from '../../e2e/support/rbac.js';
import { controlPlaneAccess, createNamespace, deleteNamespace, injected } from '../../support/index.js';

export interface HerdlessOptions {
  workers?: number;
  /** Scheduler replicas on the one Lease (default 1; 0 to add workers only); the second is `scheduler-<run>-2`, and so on. */
  schedulers?: number;
  /** Extra flags for the scheduler (e.g. ['--budgets', 'aws-sm=20']). */
  schedulerArgs?: string[];
  /** Extra flags for every worker. */
  workerArgs?: string[];
  /** Extra flags for both (e.g. budgets, which scheduler and workers must agree on). */
  commonArgs?: string[];
  /** Extra environment for every process (e.g. OTEL_* to export traces). */
  env?: Record<string, string>;
  /** How the processes reach Redis (a lab topology's flags); default the run's Redis. */
  redisArgs?: string[];
  /** Extra environment of every worker (e.g. AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, as EKS injects them). */
  workerEnv?: Record<string, string>;
  /** The kubeconfig a component's processes get instead of their ServiceAccount's (e.g. one through a fault proxy). */
  kubeconfigFor?: (component: 'scheduler' | 'worker', serviceAccountKubeconfig: string) => Promise<string>;
  /** The AWS endpoint the processes call instead of `aws` (one in a process of its own). */
  awsEndpointUrl?: string;
}

export interface SecurityEnv {
  /** Six hex characters unique to this scenario's run: names carry it. */
  run: string;
  admin: AdminClients;
  aws: AwsEndpoint;
  /** A connection to the run's Redis (for scanning keys; the processes have their own). */
  redis: Redis;
  /** Where the scheduler holds its Lease and the ServiceAccounts live. */
  systemNamespace: string;
  /** The scenario's queue prefix: its Redis keys start with it. */
  queuePrefix: string;
  processes: HerdlessProcess[];
  /** Creates namespace `<name>-<run>` (deleted by stop()) and returns its name. */
  namespace(name: string, labels?: Record<string, string>): Promise<string>;
  /** A Secret holding static AWS credentials (keys access-key-id, secret-access-key). */
  credentialsSecret(namespace: string, name: string, accessKeyId: string, secretAccessKey?: string): Promise<void>;
  /** A SecretStore or ClusterSecretStore of our AWS endpoint with static credentials from `secretRef`. */
  awsStore(o: AwsStoreOptions): Promise<void>;
  /** Starts one scheduler and `workers` workers (default 2); called again, adds processes (e.g. a worker with other flags). */
  startHerdless(o?: HerdlessOptions): Promise<void>;
  /** The /metrics text of each worker, in start order. */
  workerMetrics(): Promise<string[]>;
  /** The /metrics text of the scheduler. */
  schedulerMetrics(): Promise<string>;
  /** Everything each process printed, for leak scans and for a failing test's diagnosis. */
  output(): string;
  stop(): Promise<void>;
}

export interface AwsStoreOptions {
  kind: 'SecretStore' | 'ClusterSecretStore';
  name: string;
  /** The store's namespace (SecretStore only). */
  namespace?: string;
  service?: 'SecretsManager' | 'ParameterStore';
  region?: string;
  /** The credential Secret; `namespace` is written into the refs as given (ESO ignores it on a SecretStore). */
  secretRef?: { name: string; namespace?: string; accessKeyIdKey?: string; secretAccessKeyKey?: string };
  annotations?: Record<string, string>;
  conditions?: unknown[];
}

/** Starts our AWS endpoint and returns the scenario's environment; Herdless starts with startHerdless(). */
export async function startSecurityEnv(label: string, endpoint: AwsEndpointOptions = {}): Promise<SecurityEnv> {
  const run = randomBytes(3).toString('hex');
  const admin = adminClients(injected('kubeconfigPath'));
  const kc = admin.kc;
  const redis = new Redis(injected('redisUrl'));
  const aws = await startAwsEndpoint(endpoint);
  const namespaces: string[] = [];
  const processes: HerdlessProcess[] = [];
  const workerPorts: number[] = [];
  let schedulerPort = 0;
  const queuePrefix = `sec${run}`;

  const namespace = async (name: string, labels: Record<string, string> = {}) => {
    const ns = `${name}-${run}`;
    await createNamespace(kc, ns, labels);
    namespaces.push(ns);
    return ns;
  };
  const systemNamespace = await namespace(`${label}-system`.slice(0, 40));

  return {
    run,
    admin,
    aws,
    redis,
    systemNamespace,
    queuePrefix,
    processes,
    namespace,
    async credentialsSecret(ns, name, accessKeyId, secretAccessKey = `secret-of-${accessKeyId}`) {
      await admin.core.createNamespacedSecret({
        namespace: ns,
        body: { metadata: { name }, stringData: { 'access-key-id': accessKeyId, 'secret-access-key': secretAccessKey } },
      });
    },
    async awsStore(o) {
      const ref = o.secretRef;
      const keyRef = (key: string) => ({ name: ref!.name, key, ...(ref!.namespace ? { namespace: ref!.namespace } : {}) });
      const spec = {
        provider: {
          aws: {
            service: o.service ?? 'SecretsManager',
            region: o.region ?? aws.region,
            ...(ref
              ? {
                  auth: {
                    secretRef: {
                      accessKeyIDSecretRef: keyRef(ref.accessKeyIdKey ?? 'access-key-id'),
                      secretAccessKeySecretRef: keyRef(ref.secretAccessKeyKey ?? 'secret-access-key'),
                    },
                  },
                }
              : {}),
          },
        },
        ...(o.conditions ? { conditions: o.conditions } : {}),
      };
      await createStore(admin, o.kind, o.name, o.kind === 'SecretStore' ? o.namespace : undefined, spec);
      if (o.annotations) {
        const base = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS[o.kind], name: o.name, body: { metadata: { annotations: o.annotations } } };
        if (o.kind === 'SecretStore') await admin.custom.patchNamespacedCustomObject({ ...base, namespace: o.namespace as string }, mergePatch);
        else await admin.custom.patchClusterCustomObject(base, mergePatch);
      }
    },
    async startHerdless(o = {}) {
      const workers = o.workers ?? 2;
      const release = `hl${run}`;
      const cp = controlPlaneAccess();
      const kubeconfigs: Record<string, string> = {};
      for (const component of ['scheduler', 'worker'] as const) {
        await bindChartRbac(kc, component, systemNamespace, release);
        const own = (await createServiceAccountKubeconfig(cp, { namespace: systemNamespace, name: `${release}-${component}` })).kubeconfigPath;
        kubeconfigs[component] = o.kubeconfigFor ? await o.kubeconfigFor(component, own) : own;
      }
      const common = [...(o.redisArgs ?? ['--redis-url', injected('redisUrl')]), '--queue-prefix', queuePrefix, '--log-level', 'debug', '--aws-endpoint', o.awsEndpointUrl ?? aws.url, ...(o.commonArgs ?? [])];
      const schedulers = o.schedulers ?? 1;
      const ports = await freeLoopbackPorts(schedulers + workers);
      if (schedulers > 0) schedulerPort = ports[0] as number;
      for (let s = 1; s <= schedulers; s++) {
        processes.push(
          spawnHerdless(s === 1 ? `scheduler-${run}` : `scheduler-${run}-${s}`, [
            'scheduler',
            ...common,
            '--kubeconfig', kubeconfigs.scheduler as string,
            '--namespace', systemNamespace,
            '--lease-name', `${release}-scheduler`,
            '--metrics-port', String(ports[s - 1]),
            ...(o.schedulerArgs ?? []),
          ], o.env),
        );
      }
      // Numbered on from the workers of an earlier call (a worker added with other flags).
      const before = workerPorts.length;
      for (let w = 1; w <= workers; w++) {
        const port = ports[schedulers + w - 1] as number;
        workerPorts.push(port);
        processes.push(
          spawnHerdless(`worker-${run}-${before + w}`, ['worker', ...common, '--kubeconfig', kubeconfigs.worker as string, '--metrics-port', String(port), ...(o.workerArgs ?? [])], { ...o.env, ...o.workerEnv }),
        );
      }
    },
    workerMetrics: () => scrapeLoopbackMetrics(workerPorts),
    schedulerMetrics: async () => (await scrapeLoopbackMetrics([schedulerPort]))[0] as string,
    output: () => processes.map((p) => `--- ${p.name} ---\n${p.output()}`).join('\n'),
    async stop() {
      await stopAll(processes);
      await aws.stop();
      redis.disconnect();
      for (const ns of namespaces) await deleteNamespace(kc, ns).catch(() => undefined);
      // Gone before the next suite starts: a scheduler that serves every namespace (as these
      // suites' do) would otherwise plan this suite's leftover ExternalSecrets against its own
      // AWS endpoint and count their calls as its own.
      let left: string[] = [...namespaces];
      await waitUntil(
        async () => {
          const present = await Promise.all(left.map(async (ns) => ((await admin.core.readNamespace({ name: ns }).then(() => true, (e: unknown) => statusCodeOf(e) !== 404)) ? ns : undefined)));
          left = present.filter((ns): ns is string => ns !== undefined);
          return left.length === 0 ? true : undefined;
        },
        180_000,
        () => `namespaces still present: ${left.join(', ')}`,
        500,
      );
    },
  };
}

/**
 * Our AWS endpoint in a process of its own, stopped with the scenario's processes (env.stop):
 * for scenarios that judge the store's seconds. AWS counts a call when it arrives; in the test's
 * process the endpoint's clock is the test's event loop, and a stall there (the test's own
 * work, GC, a busy CPU) moves one second's calls into the next. Pass its url as
 * startHerdless's awsEndpointUrl and its region to awsStore.
 */
export function startOwnAwsEndpoint(env: SecurityEnv): Promise<LabAwsEndpoint> {
  return startAwsEndpointProcess((name, args) => {
    const p = spawnHerdless(`${name}-${env.run}`, args);
    env.processes.push(p);
    return p.child;
  }, `the output of process aws-endpoint-${env.run}`);
}

/** The value of a counter or gauge sample (summed over its label sets) in one /metrics text. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
