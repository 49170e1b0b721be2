import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from './config.js';
import { redisConfigShape, redisConnectionSettings } from './redis-connection.js';

const load = (env: Record<string, string>) => loadConfig(z.object(redisConfigShape), [], env);

describe('redis connection settings', () => {
  it('takes the ACL user and password from HERDLESS_REDIS_* over the URL', () => {
    const s = redisConnectionSettings(load({ REDIS_URL: 'redis://u:p@10.0.0.1:6380/2', HERDLESS_REDIS_PASSWORD: 'from-secret' }), 'commands');
    expect(s).toMatchObject({ mode: 'standalone', url: 'redis://10.0.0.1:6380/2', options: { username: 'u', password: 'from-secret', maxRetriesPerRequest: 3 } });
  });

  it('gives BullMQ connections maxRetriesPerRequest null, in every mode', () => {
    expect(redisConnectionSettings(load({}), 'bullmq').options).toMatchObject({ maxRetriesPerRequest: null });
    const cluster = redisConnectionSettings(load({ HERDLESS_REDIS_CLUSTER_NODES: 'a:7000,b' }), 'bullmq');
    expect(cluster).toMatchObject({ mode: 'cluster', nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 6379 }], options: { redisOptions: { maxRetriesPerRequest: null } } });
  });

  it('turns TLS on for rediss:// and for Sentinel applies it to the sentinels too', () => {
    const s = redisConnectionSettings(load({ REDIS_URL: 'rediss://r', HERDLESS_REDIS_SENTINELS: 's1,s2:26380', HERDLESS_REDIS_SENTINEL_MASTER_NAME: 'm', HERDLESS_REDIS_SENTINEL_PASSWORD: 'sp' }), 'commands');
    expect(s).toMatchObject({
      mode: 'sentinel',
      options: { name: 'm', sentinelPassword: 'sp', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }], tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true },
    });
  });

  it('refuses Sentinel and Cluster at once, a certificate without its key, an unreadable CA and a non-Redis URL', () => {
    expect(() => redisConnectionSettings(load({ HERDLESS_REDIS_SENTINELS: 's', HERDLESS_REDIS_CLUSTER_NODES: 'c' }), 'commands')).toThrow(/--redis-sentinels and --redis-cluster-nodes/);
    expect(() => redisConnectionSettings(load({ HERDLESS_REDIS_TLS: 'true', HERDLESS_REDIS_TLS_CERT_FILE: '/x' }), 'commands')).toThrow(/--redis-tls-cert-file and --redis-tls-key-file/);
    expect(() => redisConnectionSettings(load({ REDIS_URL: 'rediss://r', HERDLESS_REDIS_TLS_CA_FILE: '/nonexistent/ca.crt' }), 'commands')).toThrow(ConfigError);
    expect(() => load({ REDIS_URL: 'http://r' })).toThrow(/--redis-url \(HERDLESS_REDIS_URL\): expected a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => load({ HERDLESS_REDIS_SENTINELS: 'a:99999' })).toThrow(/--redis-sentinels/);
  });

  it('checks the chart\'s mode against the settings given, and takes the database and TLS server name', () => {
    expect(() => redisConnectionSettings(load({ HERDLESS_REDIS_MODE: 'sentinel' }), 'commands')).toThrow(/--redis-mode: sentinel expects --redis-sentinels/);
    expect(() => redisConnectionSettings(load({ HERDLESS_REDIS_MODE: 'standalone', HERDLESS_REDIS_CLUSTER_NODES: 'a:7000' }), 'commands')).toThrow(ConfigError);
    const sentinel = redisConnectionSettings(load({ HERDLESS_REDIS_MODE: 'sentinel', HERDLESS_REDIS_SENTINELS: 's1', HERDLESS_REDIS_DB: '3', HERDLESS_REDIS_TLS: 'true', HERDLESS_REDIS_TLS_SERVER_NAME: 'redis.internal' }), 'commands');
    expect(sentinel).toMatchObject({ mode: 'sentinel', options: { db: 3, tls: { servername: 'redis.internal' } } });
    expect(() => redisConnectionSettings(load({ HERDLESS_REDIS_CLUSTER_NODES: 'a:7000', HERDLESS_REDIS_DB: '1' }), 'commands')).toThrow(/--redis-db/);
  });
});
