// Every Redis connection of a Herdless process is built here, from the validated config: the
// BullMQ queues and workers, the limiter's connection and the leader term all reach the same
// Redis the same way (standalone, TLS, Sentinel or Cluster; password or ACL user).
// It never logs a password; an unreadable TLS file stops the process with the flag's name.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { ConfigError } from './config-error.js';

/** "host:port,host:port" → [{ host, port }] (a bare host means Redis's or Sentinel's default port). */
function hostList(defaultPort: number) {
  return z
    .string()
    .transform((s, ctx) => {
      const nodes: Array<{ host: string; port: number }> = [];
      for (const entry of s.split(',').map((x) => x.trim()).filter(Boolean)) {
        const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(entry);
        const port = m?.[2] === undefined ? defaultPort : Number(m[2]);
        if (!m || port < 1 || port > 65535) {
          ctx.addIssue({ code: 'custom', message: `expected host:port entries separated by commas, found "${entry}"` });
          return z.NEVER;
        }
        nodes.push({ host: (m[1] as string).replace(/^\[|\]$/g, ''), port });
      }
      return nodes;
    });
}

/**
 * The Redis fields of every process's config (flags --redis-*, env HERDLESS_REDIS_*). The mode is
 * chosen by what is set: --redis-sentinels → Sentinel, --redis-cluster-nodes → Cluster, else
 * standalone at --redis-url. Credentials in the URL (redis://user:pass@host) also work; the
 * separate fields win, so the chart can take the password from a Secret.
 */
export const redisConfigShape = {
  redisUrl: z
    .string()
    .url()
    .refine((u) => /^rediss?:\/\//.test(u), 'expected a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379')
    .meta({ description: 'Redis holding the queue, limiter tokens and locks (rebuildable state only): redis:// or rediss:// (TLS), credentials allowed; with Sentinel or Cluster only its scheme and credentials count' }),
  redisUsername: z.string().min(1).optional().meta({ description: 'Redis ACL user (Redis 6+); unset: the default user' }),
  redisPassword: z.string().min(1).optional().meta({ description: "Redis password (of the ACL user, or requirepass); wins over the URL's" }),
  redisTls: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .transform((v) => v === true || v === 'true' || v === '1')
    .default(false)
    .meta({ description: 'TLS to Redis even with a redis:// URL (rediss:// turns it on too)' }),
  redisTlsCaFile: z.string().min(1).optional().meta({ description: "PEM CA bundle to verify Redis's certificate with; unset: Node's trusted CAs" }),
  redisTlsCertFile: z.string().min(1).optional().meta({ description: 'PEM client certificate for Redis (tls-auth-clients); with --redis-tls-key-file' }),
  redisTlsKeyFile: z.string().min(1).optional().meta({ description: 'PEM key of the client certificate' }),
  redisSentinels: hostList(26379).optional().meta({ description: 'Sentinel mode: "host:port,…" of the sentinels (port default 26379)' }),
  redisSentinelMasterName: z.string().min(1).default('mymaster').meta({ description: 'Sentinel mode: the name of the master the sentinels monitor' }),
  redisSentinelPassword: z.string().min(1).optional().meta({ description: "Sentinel mode: the sentinels' own password (their requirepass)" }),
  redisClusterNodes: hostList(6379).optional().meta({ description: 'Cluster mode: "host:port,…" seed nodes; the rest of the cluster is discovered from them' }),
  redisMode: z
    .enum(['standalone', 'sentinel', 'cluster'])
    .optional()
    .meta({ description: 'Which Redis to expect (the chart sets it): checked against the settings given, so a Sentinel or Cluster install without its nodes stops the process instead of reaching a default URL' }),
  redisDb: z.coerce.number().int().min(0).max(15).optional().meta({ description: "Database number (standalone and Sentinel; Cluster has only 0); wins over the URL's path" }),
  redisTlsServerName: z.string().min(1).optional().meta({ description: "TLS server name (SNI and certificate check) when it differs from the host Redis is reached at" }),
} as const;

const redisConfigSchema = z.object(redisConfigShape);
export type RedisConfig = z.infer<typeof redisConfigSchema>;

/** The Redis config from plain values (tests and tools that hold a URL); defaults as for flags. */
export function parseRedisConfig(input: Partial<Record<keyof typeof redisConfigShape, unknown>> = {}): RedisConfig {
  return redisConfigSchema.parse(input);
}

/** A connection to the configured Redis, whatever its mode. ioredis's Cluster speaks the same commands. */
export type RedisConnection = Redis | Cluster;

/**
 * What the connection is for. 'bullmq': BullMQ queues and workers (their blocking commands need
 * maxRetriesPerRequest null: a command waits out a reconnection instead of failing). 'commands':
 * short commands that should fail fast while Redis is away (the limiter, the leader term).
 */
export type RedisConnectionUse = 'bullmq' | 'commands';

type Settings =
  | { mode: 'standalone'; options: RedisOptions; url: string }
  | { mode: 'sentinel'; options: RedisOptions }
  | { mode: 'cluster'; nodes: Array<{ host: string; port: number }>; options: ClusterOptions };

/** The ioredis options for `config` (pure apart from reading the TLS files); throws ConfigError. */
export function redisConnectionSettings(config: RedisConfig, use: RedisConnectionUse): Settings {
  if (config.redisSentinels && config.redisClusterNodes) {
    throw new ConfigError('invalid configuration:\n  --redis-sentinels and --redis-cluster-nodes: expected at most one of them (Sentinel or Cluster), found both');
  }
  const given = config.redisSentinels ? 'sentinel' : config.redisClusterNodes ? 'cluster' : 'standalone';
  if (config.redisMode !== undefined && config.redisMode !== given) {
    const needs = config.redisMode === 'sentinel' ? '--redis-sentinels' : config.redisMode === 'cluster' ? '--redis-cluster-nodes' : 'neither --redis-sentinels nor --redis-cluster-nodes';
    throw new ConfigError(`invalid configuration:\n  --redis-mode: ${config.redisMode} expects ${needs}, found the settings of ${given}`);
  }
  if (config.redisDb !== undefined && config.redisDb !== 0 && given === 'cluster') {
    throw new ConfigError('invalid configuration:\n  --redis-db: expected 0 or unset with Cluster (it has only database 0)');
  }
  const url = new URL(config.redisUrl);
  const tls = config.redisTls || url.protocol === 'rediss:' ? tlsOptions(config) : undefined;
  const username = config.redisUsername ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = config.redisPassword ?? (url.password ? decodeURIComponent(url.password) : undefined);
  const common: RedisOptions = {
    maxRetriesPerRequest: use === 'bullmq' ? null : 3,
    // The limiter's scripts are asked by many syncs at once: commands issued in the same tick go
    // out in one write (one syscall, one read at Redis) instead of one each. BullMQ's connections
    // keep ioredis's default (its blocking commands must not queue behind a pipeline).
    ...(use === 'commands' ? { enableAutoPipelining: true } : {}),
    ...(config.redisDb === undefined || given === 'cluster' ? {} : { db: config.redisDb }),
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(tls === undefined ? {} : { tls }),
  };
  if (config.redisSentinels) {
    return {
      mode: 'sentinel',
      options: {
        ...common,
        sentinels: config.redisSentinels,
        name: config.redisSentinelMasterName,
        ...(config.redisSentinelPassword === undefined ? {} : { sentinelPassword: config.redisSentinelPassword }),
        // TLS to the master and to the sentinels alike: one CA for the whole deployment.
        ...(tls === undefined ? {} : { enableTLSForSentinelMode: true, sentinelTLS: tls }),
        // After a failover, a connection to the old master (now a replica) must reconnect to the new one.
        reconnectOnError: (err) => err.message.startsWith('READONLY'),
      },
    };
  }
  if (config.redisClusterNodes) {
    const { maxRetriesPerRequest, ...redisOptions } = common;
    return {
      mode: 'cluster',
      nodes: config.redisClusterNodes,
      options: {
        redisOptions: { ...redisOptions, maxRetriesPerRequest },
        ...(use === 'commands' ? { enableAutoPipelining: true } : {}),
      },
    };
  }
  return { mode: 'standalone', options: common, url: `${url.protocol}//${url.host}${url.pathname}` };
}

/** A new connection to the configured Redis (standalone, Sentinel or Cluster). The caller closes it. */
export function createRedisConnection(config: RedisConfig, use: RedisConnectionUse): RedisConnection {
  const settings = redisConnectionSettings(config, use);
  switch (settings.mode) {
    case 'cluster':
      return new Cluster(settings.nodes, settings.options);
    case 'sentinel':
      return new Redis(settings.options);
    case 'standalone':
      return new Redis(settings.url, settings.options);
  }
}

/** Where the connection goes, for logs: mode and addresses, never credentials. */
export function describeRedis(config: RedisConfig): string {
  if (config.redisSentinels) return `sentinel ${config.redisSentinelMasterName}@${config.redisSentinels.map((n) => `${n.host}:${n.port}`).join(',')}`;
  if (config.redisClusterNodes) return `cluster ${config.redisClusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  const url = new URL(config.redisUrl);
  return `${url.protocol}//${url.host}`;
}

function tlsOptions(config: RedisConfig): TlsOptions {
  if ((config.redisTlsCertFile === undefined) !== (config.redisTlsKeyFile === undefined)) {
    throw new ConfigError('invalid configuration:\n  --redis-tls-cert-file and --redis-tls-key-file: expected both or neither');
  }
  return {
    ...(config.redisTlsServerName === undefined ? {} : { servername: config.redisTlsServerName }),
    ...(config.redisTlsCaFile === undefined ? {} : { ca: readPem(config.redisTlsCaFile, 'redisTlsCaFile') }),
    ...(config.redisTlsCertFile === undefined ? {} : { cert: readPem(config.redisTlsCertFile, 'redisTlsCertFile') }),
    ...(config.redisTlsKeyFile === undefined ? {} : { key: readPem(config.redisTlsKeyFile, 'redisTlsKeyFile') }),
  };
}

function readPem(path: string, field: string): string {
  const flag = '--' + field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`invalid configuration:\n  ${flag}: expected a readable PEM file, found ${(e as NodeJS.ErrnoException).code ?? 'an error'} at ${path}`);
  }
}
