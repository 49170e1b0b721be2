// One validated configuration object per process, from flags and the environment (flags win).
// This module is the only place in Herdless that reads process.env.
import { z } from 'zod';
import { DEFAULT_RESERVED_SHARE, DEFAULT_TARGET_UTILISATION } from './budgets.js';
import { DEFAULT_CONTROLLER_CLASS } from './controller-class.js';
import { ConfigError } from './config-error.js';
import { redisConfigShape } from './redis-connection.js';
import { TELEMETRY_ENV, telemetryConfigShape } from './telemetry-config.js';

export { ConfigError };

/** "--budget-rps" / HERDLESS_BUDGET_RPS → budgetRps. */
function camel(kebab: string): string {
  return kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** budgetRps → HERDLESS_BUDGET_RPS: the environment variable a config field is read from. */
export function envName(key: string): string {
  return 'HERDLESS_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

/** budgetRps → --budget-rps: the flag a config field is read from. */
export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** Parses "--key value", "--key=value" and boolean "--flag" / "--no-flag" into a camelCase record. */
export function parseFlags(argv: readonly string[]): { flags: Record<string, string | boolean>; positionals: string[] } {
  const flags: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const body = arg.slice(2);
    const eq = body.indexOf('=');
    if (eq >= 0) {
      flags[camel(body.slice(0, eq))] = body.slice(eq + 1);
    } else if (body.startsWith('no-')) {
      flags[camel(body.slice(3))] = false;
    } else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        flags[camel(body)] = next;
        i++;
      } else {
        flags[camel(body)] = true;
      }
    }
  }
  return { flags, positionals };
}

/**
 * Conventional variable names a field also reads. The AWS ones are the SDKs' (AWS_ROLE_ARN and
 * AWS_WEB_IDENTITY_TOKEN_FILE are what EKS's IRSA webhook injects) and ESO's AWS_STS_ENDPOINT:
 * the worker reads them here, once, and hands them to the providers. The OTEL_* ones are
 * OpenTelemetry's standard variables, read here and handed to the tracer (telemetry-config.ts).
 */
export const CONVENTIONAL_ENV: Readonly<Record<string, string>> = {
  kubeconfig: 'KUBECONFIG',
  redisUrl: 'REDIS_URL',
  awsEndpoint: 'AWS_ENDPOINT_URL',
  awsStsEndpoint: 'AWS_STS_ENDPOINT',
  awsRoleArn: 'AWS_ROLE_ARN',
  awsWebIdentityTokenFile: 'AWS_WEB_IDENTITY_TOKEN_FILE',
  awsRoleSessionName: 'AWS_ROLE_SESSION_NAME',
  ...TELEMETRY_ENV,
};

/**
 * Builds the config object for `schema` from flags, then HERDLESS_* environment variables
 * (plus a few conventional names such as KUBECONFIG and REDIS_URL). A bad value throws a
 * ConfigError naming the field and the rule it broke.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  argv: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
  aliases: Readonly<Record<string, string>> = CONVENTIONAL_ENV,
): z.infer<S> {
  const { flags } = parseFlags(argv);
  const known = Object.keys(schema.shape);
  const unknown = Object.keys(flags).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(`unknown flag(s): ${unknown.map(flagName).join(', ')}; expected one of: ${known.map(flagName).join(', ')}`);
  }
  const input: Record<string, unknown> = {};
  for (const key of known) {
    const fromFlag = flags[key];
    const fromEnv = env[envName(key)] ?? (aliases[key] ? env[aliases[key] as string] : undefined);
    const value = fromFlag ?? fromEnv;
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const field = issue.path.join('.') || '(config)';
      const flag = flagName(field);
      return `${flag} (${envName(field)}): ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}

/** Shared fields every Herdless process has. Each description is the flag's help text. */
export const commonConfigShape = {
  kubeconfig: z.string().optional().meta({ description: 'kubeconfig file; unset: in-cluster ServiceAccount credentials' }),
  ...redisConfigShape,
  queuePrefix: z.string().regex(/^[a-zA-Z0-9_{}-]+$/).default('herdless').meta({ description: 'prefix of every Redis key; two installations on one Redis need different prefixes' }),
  shards: z
    .string()
    .default('default')
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .meta({ description: 'comma-separated shard queues this process serves (worker pools pinned to tenants)' }),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').meta({ description: 'JSON log level (pino)' }),
  metricsPort: z.coerce.number().int().min(0).max(65535).default(0).meta({ description: 'port of /metrics, /healthz and /readyz; 0: not served' }),
  objectMetrics: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .transform((v) => v === true || v === 'true' || v === '1')
    .default(true)
    .meta({
    description: "ESO's per-ExternalSecret series (name and namespace labels), one set per object as ESO has them; false keeps the label names with empty values, one series per metric",
  }),
  ...telemetryConfigShape,
  targetUtilisation: z.coerce.number().gt(0).max(1).default(DEFAULT_TARGET_UTILISATION).meta({
    description: "share of a budget routine refreshes may use: the scheduler plans them at it and the workers' limiter holds them to it (the rest absorbs retries and new specs); same value on both",
  }),
  reservedShare: z.coerce.number().min(0).lt(1).default(DEFAULT_RESERVED_SHARE).meta({
    description: 'share of each budget reserved for new or changed specs (routine refreshes never use it); same value on both',
  }),
  kubeApiQps: z.coerce.number().positive().default(1000).meta({
    description: "client-side limit on requests a second to the Kubernetes API server, per process (client-go's QPS; a 429 with Retry-After is waited out and retried); a worker makes about two writes a sync",
  }),
  kubeApiBurst: z.coerce.number().int().min(1).default(2000).meta({ description: "requests to the Kubernetes API server allowed at once above --kube-api-qps (client-go's burst)" }),
  controllerClass: z
    .string()
    .min(1)
    .default(DEFAULT_CONTROLLER_CLASS)
    .meta({
      description:
        "serve only the stores whose spec.controller is empty or this class, and the ExternalSecrets and ClusterExternalSecrets whose stores are all served (ESO's --controller-class, same default); same value on both",
    }),
  watchNamespace: z
    .string()
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a namespace name (lower-case letters, digits and "-", RFC 1123)')
    .optional()
    .meta({ description: "serve only this namespace's ExternalSecrets and SecretStores (ESO's --namespace; ClusterSecretStores are still read); unset: every namespace; same value on both" }),
} as const;

