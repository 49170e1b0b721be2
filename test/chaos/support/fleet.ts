// What the chaos scenarios share: a fleet of new ExternalSecrets in a namespace of its own (one
// remote secret each, read once a sync), the count of its Ready ones, and the endpoint's view of
// the budget second by second, with the seconds of a fault set apart; and the rig they run on.
import { startRedisTopology, type RedisTopology, type RedisTopologyKind } from '@herdless/lab';
import { createExternalSecret, listExternalSecrets } from '../../e2e/support/kube.js';
import { startSecurityEnv, type HerdlessOptions, type SecurityEnv } from '../../security/support/security-env.js';

export interface Fleet {
  namespace: string;
  size: number;
  /** The access key id its store signs with: the endpoint's requests of this fleet carry it. */
  accessKeyId: string;
  /** How many of its ExternalSecrets are Ready=True now. */
  ready(): Promise<number>;
}

const CREATE_CONCURRENCY = 200;

/** Creates namespace `<name>-<run>`, a store with its own credentials, `size` remote secrets and ExternalSecrets (refresh 1h). */
export async function createFleet(env: SecurityEnv, name: string, size: number): Promise<Fleet> {
  const namespace = await env.namespace(name);
  const accessKeyId = `AKID${name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`;
  await env.credentialsSecret(namespace, 'aws-creds', accessKeyId);
  await env.awsStore({ kind: 'SecretStore', name: 'aws', namespace, secretRef: { name: 'aws-creds' } });
  for (let i = 0; i < size; i++) env.aws.putSecret({ name: `${name}/app-${i}`, secretString: `${name}-${i}` });
  // At most CREATE_CONCURRENCY creates in flight: a burst of thousands stays a burst without
  // opening thousands of connections to the API server at once.
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, CREATE_CONCURRENCY) }, async () => {
      for (let i = next++; i < size; i = next++) {
        await createExternalSecret(env.admin, namespace, `app-${i}`, {
          refreshInterval: '1h',
          secretStoreRef: { name: 'aws', kind: 'SecretStore' },
          data: [{ secretKey: 'value', remoteRef: { key: `${name}/app-${i}` } }],
        });
      }
    }),
  );
  return {
    namespace,
    size,
    accessKeyId,
    ready: async () => (await listExternalSecrets(env.admin, namespace)).filter((e) => e.ready === 'True').length,
  };
}

/** GetSecretValue calls the endpoint answered with data. */
export const okReads = (env: SecurityEnv): number => env.aws.requests().filter((r) => r.operation === 'GetSecretValue' && r.outcome === 'ok').length;

/** The busiest epoch second of GetSecretValue at the endpoint, among the fault's seconds and among the others. */
export function busiestSeconds(env: SecurityEnv, faultSeconds: ReadonlySet<number>): { busiestSecond: number; busiestFaultSecond: number; throttled: number } {
  const reads = env.aws.requests().filter((r) => r.operation === 'GetSecretValue');
  const perSecond = new Map<number, number>();
  for (const r of reads) perSecond.set(Math.floor(r.atMs / 1000), (perSecond.get(Math.floor(r.atMs / 1000)) ?? 0) + 1);
  const busiest = (faulty: boolean) => Math.max(0, ...[...perSecond].filter(([sec]) => faultSeconds.has(sec) === faulty).map(([, n]) => n));
  return { busiestSecond: busiest(false), busiestFaultSecond: busiest(true), throttled: reads.filter((r) => r.outcome === 'throttled').length };
}

/** Adds every epoch second from `fromMs` to one past `toMs`. */
export function markFaultSeconds(into: Set<number>, fromMs: number, toMs: number): void {
  // The fault's seconds run until the admissions a lost limiter bucket forgot have been sent: a
  // sync's booking reaches up to one second of the rate ahead, plus the limiter's max wait, so
  // two seconds past the fault's end (a full run saw 21 at budget 20 in the second after a restart).
  for (let sec = Math.floor(fromMs / 1000); sec <= Math.floor(toMs / 1000) + 2; sec++) into.add(sec);
}

export interface ChaosRig {
  env: SecurityEnv;
  redis: RedisTopology;
  /** Adds `workers` workers that reach Redis with `redisArgs` (through a partition relay, say). */
  addWorkers(workers: number, redisArgs: string[]): Promise<void>;
  /** Prints the scenario's figures, then stops Herdless, the endpoint and Redis. */
  stop(figures: unknown): Promise<void>;
}

/**
 * A scenario's rig: a Redis of `kind` of its own (faults to it touch no other test), our AWS
 * endpoint enforcing `budgetRps` on GetSecretValue, a scheduler and two workers (or as
 * `herdless` says) planning and limiting at that budget, batching off so that one sync is one call.
 */
export async function startChaosRig(
  label: string,
  kind: RedisTopologyKind,
  budgetRps: number,
  herdless: Pick<HerdlessOptions, 'schedulers' | 'schedulerArgs' | 'workers' | 'kubeconfigFor'> & { extraArgs?: string[] } = {},
): Promise<ChaosRig> {
  const redis = await startRedisTopology(kind);
  const { extraArgs = [], ...processes } = herdless;
  const limits = { commonArgs: ['--budgets', `aws-sm=${budgetRps}`, ...extraArgs], workerArgs: ['--batching', 'never'] };
  let env: SecurityEnv | undefined;
  try {
    env = await startSecurityEnv(label, { quotas: { GetSecretValue: { rps: budgetRps, burst: budgetRps } } });
    await env.startHerdless({ workers: 2, ...processes, redisArgs: redis.flags, ...limits });
  } catch (e) {
    await env?.stop();
    await redis.stop();
    throw e;
  }
  const started = env;
  return {
    env: started,
    redis,
    addWorkers: (workers, redisArgs) => started.startHerdless({ schedulers: 0, workers, redisArgs, ...limits }),
    async stop(figures) {
      console.log(`[${label}] figures ${JSON.stringify(figures)}`);
      await started.stop();
      await redis.stop();
    },
  };
}
