// Issue 8's end-to-end: scheduler and two workers as separate processes, each with its own
// ServiceAccount token bound by the chart's RBAC, against the real control plane, a real
// Redis and our AWS endpoint. 300 ExternalSecrets of every shape become exact Secrets.
// defineWalkingSkeleton() registers the scenario: on the run's Redis (walking-skeleton.test.ts),
// or, for the Redis matrix (redis-matrix/*.test.ts), on a production topology started here.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { KubeConfig } from '@kubernetes/client-node';
import { createRedisConnection, parseRedisConfig, type RedisConnection } from '@herdless/core';
import { createServiceAccountKubeconfig, startAwsEndpoint, startRedisTopology, type AwsEndpoint, type RedisTopology, type RedisTopologyKind } from '@herdless/lab';
import { bindChartRbac } from './support/rbac.js';
import { spawnHerdless, stopAll, type HerdlessProcess } from './support/processes.js';
import {
  adminClients,
  createExternalSecret,
  createStore,
  deleteExternalSecret,
  eventually,
  listExternalSecrets,
  patchExternalSecretSpec,
  type AdminClients,
} from './support/kube.js';

/** The walking skeleton's hooks and tests, on the run's Redis or on a Redis of `kind`. */
export function defineWalkingSkeleton(kind?: RedisTopologyKind): void {
  const run = randomBytes(3).toString('hex');
  const SYSTEM_NS = `herdless-e2e-${run}`;
  const NS = `team-a-${run}`;
  const OTHER_NS = `team-b-${run}`;
  const PREFIX = `e2e${run}`;
  const PER_SHAPE = 75; // 4 shapes → 300 ExternalSecrets

  /** Every value the test creates remotely: none may appear in Redis or in a process's log. */
  const createdValues: string[] = [];
  const secretValue = (label: string) => {
    const v = `sv-${label}-${randomBytes(6).toString('hex')}`;
    createdValues.push(v);
    return v;
  };

  let admin: AdminClients;
  let aws: AwsEndpoint;
  let redis: RedisConnection;
  let topology: RedisTopology | undefined;
  let redisFlags: string[];
  const processes: HerdlessProcess[] = [];
  const apps: Array<{ username: string; password: string }> = [];
  const shared: Record<string, string> = {};

  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

  async function readSecret(name: string, namespace = NS) {
    try {
      return await admin.core.readNamespacedSecret({ name, namespace });
    } catch (e) {
      if ((e as { code?: number }).code === 404) return undefined;
      throw e;
    }
  }

  function storeSpec(namespaceOfCredentials?: string) {
    const ref = (key: string) => ({ name: 'aws-credentials', key, ...(namespaceOfCredentials ? { namespace: namespaceOfCredentials } : {}) });
    return {
      provider: {
        aws: {
          service: 'SecretsManager',
          region: 'eu-west-1',
          auth: { secretRef: { accessKeyIDSecretRef: ref('access-key-id'), secretAccessKeySecretRef: ref('secret-access-key') } },
        },
      },
    };
  }

  beforeAll(async () => {
    admin = adminClients(inject('kubeconfigPath'));
    if (kind) {
      topology = await startRedisTopology(kind);
      redisFlags = topology.flags;
      redis = createRedisConnection(parseRedisConfig(topology.settings), 'commands');
    } else {
      redisFlags = ['--redis-url', inject('redisUrl')];
      redis = new Redis(inject('redisUrl'));
    }
    aws = await startAwsEndpoint();

    // Remote data: 300 JSON app secrets, and three "shared-" secrets that find by regexp returns.
    for (let i = 0; i < PER_SHAPE * 4; i++) {
      const app = { username: secretValue(`user${i}`), password: secretValue(`pass${i}`) };
      apps.push(app);
      aws.putSecret({ name: `${PREFIX}/app-${i}`, secretString: JSON.stringify(app) });
    }
    for (const n of ['alpha', 'beta', 'gamma']) {
      shared[`${PREFIX}-shared-${n}`] = secretValue(`shared-${n}`);
      aws.putSecret({ name: `${PREFIX}-shared-${n}`, secretString: shared[`${PREFIX}-shared-${n}`] as string });
    }
    aws.putSecret({ name: `${PREFIX}/rotating`, secretString: JSON.stringify({ token: secretValue('rot-1') }) });
    aws.putSecret({ name: `${PREFIX}/slow`, secretString: JSON.stringify({ token: secretValue('slow-1') }) });

    for (const ns of [SYSTEM_NS, NS, OTHER_NS]) await admin.core.createNamespace({ body: { metadata: { name: ns } } });
    for (const ns of [NS, OTHER_NS, SYSTEM_NS]) {
      await admin.core.createNamespacedSecret({
        namespace: ns,
        body: { metadata: { name: 'aws-credentials' }, stringData: { 'access-key-id': 'AKIDLAB', 'secret-access-key': 'lab-secret-key' } },
      });
    }
    await createStore(admin, 'SecretStore', 'aws', NS, storeSpec());
    await createStore(admin, 'SecretStore', 'elsewhere', OTHER_NS, storeSpec());
    await createStore(admin, 'ClusterSecretStore', `aws-${run}`, undefined, storeSpec(SYSTEM_NS));

    // Processes with the chart's RBAC, not admin.
    const release = `hl${run}`;
    const kc = new KubeConfig();
    kc.loadFromFile(inject('kubeconfigPath'));
    const cp = { kubeConfig: () => kc, server: kc.getCurrentCluster()!.server, caPem: Buffer.from(kc.getCurrentCluster()!.caData!, 'base64').toString('utf8'), dir: inject('controlPlaneDir') };
    const creds: Record<string, string> = {};
    for (const component of ['scheduler', 'worker'] as const) {
      await bindChartRbac(kc, component, SYSTEM_NS, release);
      creds[component] = (await createServiceAccountKubeconfig(cp, { namespace: SYSTEM_NS, name: `${release}-${component}` })).kubeconfigPath;
    }
    const common = [...redisFlags, '--queue-prefix', `q${run}`, '--log-level', 'debug'];
    processes.push(
      spawnHerdless('scheduler', ['scheduler', ...common, '--kubeconfig', creds.scheduler!, '--namespace', SYSTEM_NS, '--lease-name', `${release}-scheduler`, '--aws-endpoint', aws.url]),
    );
    for (const i of [1, 2]) {
      processes.push(
        spawnHerdless(`worker-${i}`, ['worker', ...common, '--kubeconfig', creds.worker!, '--aws-endpoint', aws.url, '--concurrency', '20']),
      );
    }

    // 300 ExternalSecrets, four shapes, two kinds of store.
    const storeRef = (i: number) => (i % 2 === 0 ? { name: 'aws', kind: 'SecretStore' } : { name: `aws-${run}`, kind: 'ClusterSecretStore' });
    for (let i = 0; i < PER_SHAPE * 4; i++) {
      const key = `${PREFIX}/app-${i}`;
      const shape = i % 4;
      const spec =
        shape === 0 ? { data: [{ secretKey: 'password', remoteRef: { key, property: 'password' } }] }
        : shape === 1 ? { dataFrom: [{ extract: { key } }] }
        : shape === 2 ? { dataFrom: [{ find: { name: { regexp: `^${PREFIX}-shared-` } } }] }
        : {
            data: [
              { secretKey: 'user', remoteRef: { key, property: 'username' } },
              { secretKey: 'pass', remoteRef: { key, property: 'password' } },
            ],
            target: { template: { data: { dsn: 'postgres://{{ .user }}:{{ .pass }}@db:5432/app' } } },
          };
      await createExternalSecret(admin, NS, `es-${i}`, { refreshInterval: '1h', secretStoreRef: storeRef(i), ...spec });
    }
  }, 600_000);

  let logsShown = false;
  afterEach((ctx) => {
    // On the first failure, show what the processes said: the test only sees the API server.
    if (ctx.task.result?.state !== 'fail' || logsShown) return;
    logsShown = true;
    for (const p of processes) process.stderr.write(`\n--- last lines of ${p.name} ---\n${p.output().split('\n').slice(-25).join('\n')}\n`);
  });

  afterAll(async () => {
    await stopAll(processes);
    await aws?.stop();
    redis?.disconnect();
    await topology?.stop();
    for (const ns of [NS, OTHER_NS, SYSTEM_NS]) await admin?.core.deleteNamespace({ name: ns }).catch(() => undefined);
  });

  describe(`walking skeleton: ESO-compatible sync end to end${kind ? ` on Redis ${kind}` : ''}`, () => {
    it('300 ExternalSecrets of every shape become Secrets with exactly the expected bytes, owner references and Ready=True', async () => {
      await eventually('all 300 ExternalSecrets Ready', 180_000, async () => {
        const items = await listExternalSecrets(admin, NS);
        const ready = items.filter((i) => i.ready === 'True').length;
        return ready >= PER_SHAPE * 4 ? items : undefined;
      }, 1000);

      for (let i = 0; i < PER_SHAPE * 4; i++) {
        const secret = await readSecret(`es-${i}`);
        expect(secret, `Secret es-${i}`).toBeDefined();
        const app = apps[i]!;
        const expected =
          i % 4 === 0 ? { password: b64(app.password) }
          : i % 4 === 1 ? { username: b64(app.username), password: b64(app.password) }
          : i % 4 === 2 ? Object.fromEntries(Object.entries(shared).map(([k, v]) => [k, b64(v)]))
          : { dsn: b64(`postgres://${app.username}:${app.password}@db:5432/app`) };
        expect(secret!.data, `data of es-${i}`).toEqual(expected);
        const owner = secret!.metadata?.ownerReferences?.[0];
        expect(owner).toMatchObject({ apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', name: `es-${i}`, controller: true });
      }
    });

    it('bad input gets a specific Ready=False reason while the others keep syncing', async () => {
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ['bad-interval', { refreshInterval: '1 hour', secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'k', remoteRef: { key: `${PREFIX}/app-0`, property: 'password' } }] }, 'InvalidRefreshInterval'],
        ['missing-store', { secretStoreRef: { name: 'nope' }, data: [{ secretKey: 'k', remoteRef: { key: `${PREFIX}/app-0` } }] }, 'SecretStoreNotFound'],
        // A SecretStore serves only its own namespace; that another namespace holds one of that name is not this tenant's to learn.
        ['store-in-other-namespace', { secretStoreRef: { name: 'elsewhere' }, data: [{ secretKey: 'k', remoteRef: { key: `${PREFIX}/app-0` } }] }, 'SecretStoreNotFound'],
        ['missing-remote-key', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'k', remoteRef: { key: `${PREFIX}/does-not-exist` } }] }, 'RemoteKeyNotFound'],
        ['missing-property', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'k', remoteRef: { key: `${PREFIX}/app-0`, property: 'nope' } }] }, 'RemotePropertyNotFound'],
        ['bad-template', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'k', remoteRef: { key: `${PREFIX}/app-0`, property: 'password' } }], target: { template: { data: { x: '{{ .unknown }}' } } } }, 'TemplateError'],
        // 10^10 template steps: stopped at the worker's time limit for one render.
        ['endless-template', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'k', remoteRef: { key: `${PREFIX}/app-0`, property: 'password' } }], target: { template: { data: { x: '{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}' } } } }, 'TemplateError'],
        ['engine-v1', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'k', remoteRef: { key: `${PREFIX}/app-0`, property: 'password' } }], target: { template: { engineVersion: 'v1', data: { x: '{{ .k }}' } } } }, 'InvalidSpec'],
        // Generators are refused, not dropped: a generator-only ExternalSecret has nothing else to sync.
        ['generator-only', { dataFrom: [{ sourceRef: { generatorRef: { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'Password', name: 'pw' } } }] }, 'InvalidSpec'],
        ['generator-beside-data', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'k', remoteRef: { key: `${PREFIX}/app-0`, property: 'password' } }], dataFrom: [{ sourceRef: { generatorRef: { kind: 'UUID', name: 'id' } } }] }, 'InvalidSpec'],
        // An entry's own store other than the ExternalSecret's is refused, not read from the ExternalSecret's store.
        ['entry-other-store', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'k', remoteRef: { key: `${PREFIX}/app-0`, property: 'password' }, sourceRef: { storeRef: { name: 'elsewhere' } } }] }, 'InvalidSpec'],
      ];
      for (const [name, spec] of cases) await createExternalSecret(admin, NS, name, spec);
      // A healthy one created after them syncs too: bad input does not block the queue.
      await createExternalSecret(admin, NS, 'healthy-after', { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'k', remoteRef: { key: `${PREFIX}/app-1`, property: 'username' } }] });

      const byName = await eventually('all bad-input ExternalSecrets to get a condition', 60_000, async () => {
        const items = await listExternalSecrets(admin, NS);
        const m = new Map(items.map((i) => [i.name, i]));
        const done = cases.every(([n]) => m.get(n)?.ready === 'False') && m.get('healthy-after')?.ready === 'True';
        return done ? m : undefined;
      });
      for (const [name, , reason] of cases) {
        expect({ name, reason: byName.get(name)?.reason }).toEqual({ name, reason });
        expect(byName.get(name)?.message, `message of ${name}`).toBeTruthy();
        expect(byName.get(name)?.message, `message of ${name}`).not.toContain(OTHER_NS);
      }
      // The generator cases name the field, not a consequence of the generator's absence (no store, no extract).
      for (const name of ['generator-only', 'generator-beside-data']) {
        expect(byName.get(name)?.message, `message of ${name}`).toMatch(/spec\.dataFrom\[0\]\.sourceRef\.generatorRef: generators are not supported/);
      }
      expect(unb64((await readSecret('healthy-after'))?.data?.k)).toBe(apps[1]!.username);
      const items = await listExternalSecrets(admin, NS);
      expect(items.filter((i) => /^es-\d+$/.test(i.name) && i.ready === 'True')).toHaveLength(PER_SHAPE * 4);
    });

    it("ESO's template engine, templateFrom, decodingStrategy and rewrite give ESO's bytes", async () => {
      const app = apps[0]!;
      const key = `${PREFIX}/app-0`;
      await admin.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'app-config' }, data: { 'config.yaml': 'user: {{ .user | upper }}', many: 'a: "{{ .user }}"\nb: "{{ .pass | b64enc }}"' } } });
      await createExternalSecret(admin, NS, 'templated', {
        secretStoreRef: { name: 'aws' },
        data: [
          { secretKey: 'user', remoteRef: { key, property: 'username' } },
          { secretKey: 'pass', remoteRef: { key, property: 'password' } },
        ],
        target: {
          template: {
            type: 'kubernetes.io/basic-auth',
            metadata: { labels: { owner: '{{ .user | lower | trunc 10 }}' }, annotations: { checksum: '{{ .pass | sha256sum }}' } },
            data: { username: '{{ .user }}', password: '{{ .pass | quote }}' },
            templateFrom: [{ configMap: { name: 'app-config', items: [{ key: 'config.yaml' }, { key: 'many', templateAs: 'KeysAndValues' }] } }],
          },
        },
      });
      // The remote JSON's values are base64 here, so decodingStrategy has work to do; the
      // rewrite renames every key ("password" → "db-password", "username" → "db-username").
      aws.putSecret({ name: `${PREFIX}/encoded`, secretString: JSON.stringify({ username: b64(app.username), password: b64(app.password) }) });
      await createExternalSecret(admin, NS, 'decoded-rewritten', {
        secretStoreRef: { name: 'aws' },
        dataFrom: [{ extract: { key: `${PREFIX}/encoded`, decodingStrategy: 'Base64' }, rewrite: [{ regexp: { source: '^(.*)$', target: 'db-$1' } }] }],
      });
      await eventually('both templated ExternalSecrets Ready', 60_000, async () => {
        const items = await listExternalSecrets(admin, NS);
        return ['templated', 'decoded-rewritten'].every((n) => items.find((i) => i.name === n)?.ready === 'True') ? true : undefined;
      });
      const templated = await readSecret('templated');
      expect(templated?.type).toBe('kubernetes.io/basic-auth');
      expect(templated?.data).toEqual({
        username: b64(app.username),
        password: b64(`"${app.password}"`),
        'config.yaml': b64(`user: ${app.username.toUpperCase()}`),
        a: b64(app.username),
        b: b64(b64(app.password)),
      });
      expect(templated?.metadata?.labels).toMatchObject({ owner: app.username.toLowerCase().slice(0, 10) });
      expect(templated?.metadata?.annotations).toMatchObject({ checksum: createHash('sha256').update(app.password).digest('hex') });
      expect((await readSecret('decoded-rewritten'))?.data).toEqual({ 'db-username': b64(app.username), 'db-password': b64(app.password) });
    });

    it('manifests the CRD schema must reject are rejected by the API server with the field named', async () => {
      const rejects: Array<[Record<string, unknown>, RegExp]> = [
        [{ secretStoreRef: { name: 'aws' }, target: { creationPolicy: 'Sometimes' }, data: [] }, /spec\.target\.creationPolicy/],
        [{ secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'k', remoteRef: {} }] }, /spec\.data\[0\]\.remoteRef\.key/],
        [{ secretStoreRef: { kind: 'SecretStore' }, data: [] }, /spec\.secretStoreRef\.name/],
        [{ secretStoreRef: { name: 'aws' }, refreshInterval: 60 }, /spec\.refreshInterval/],
      ];
      for (const [i, [spec, field]] of rejects.entries()) {
        const error = await createExternalSecret(admin, NS, `rejected-${i}`, spec).then(
          () => undefined,
          (e: { code?: number; body?: unknown }) => e,
        );
        expect(error?.code, `rejected-${i}`).toBe(422);
        expect(typeof error?.body === 'string' ? error.body : JSON.stringify(error?.body)).toMatch(field);
      }
    });

    it('a changed remote value shows up after refreshInterval, and not before for a longer interval', async () => {
      await createExternalSecret(admin, NS, 'rotating', { refreshInterval: '3s', secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'token', remoteRef: { key: `${PREFIX}/rotating`, property: 'token' } }] });
      await createExternalSecret(admin, NS, 'slow', { refreshInterval: '1h', secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'token', remoteRef: { key: `${PREFIX}/slow`, property: 'token' } }] });
      const first = await eventually('rotating synced', 30_000, async () => unb64((await readSecret('rotating'))?.data?.token));
      const slowFirst = await eventually('slow synced', 30_000, async () => unb64((await readSecret('slow'))?.data?.token));
      const rotated = secretValue('rot-2');
      const slowRotated = secretValue('slow-2');
      aws.putSecret({ name: `${PREFIX}/rotating`, secretString: JSON.stringify({ token: rotated }) });
      aws.putSecret({ name: `${PREFIX}/slow`, secretString: JSON.stringify({ token: slowRotated }) });
      const changedAt = Date.now();
      const seen = await eventually('rotated value in the Secret', 30_000, async () => {
        const v = unb64((await readSecret('rotating'))?.data?.token);
        return v === rotated ? v : undefined;
      });
      expect(first).not.toBe(rotated);
      expect(seen).toBe(rotated);
      expect(Date.now() - changedAt).toBeLessThan(30_000);
      // The 1h ExternalSecret has not been refreshed: refreshes follow the interval, not a poll.
      expect(unb64((await readSecret('slow'))?.data?.token)).toBe(slowFirst);
    });

    it('editing the ExternalSecret spec re-syncs within seconds', async () => {
      await patchExternalSecretSpec(admin, NS, 'es-0', { data: [{ secretKey: 'user-name', remoteRef: { key: `${PREFIX}/app-0`, property: 'username' } }] });
      const secret = await eventually('es-0 re-synced with the new spec', 20_000, async () => {
        const s = await readSecret('es-0');
        return s?.data?.['user-name'] ? s : undefined;
      });
      expect(secret.data).toEqual({ 'user-name': b64(apps[0]!.username) });
    });

    it('deleting an ExternalSecret deletes an owned Secret (garbage collector) and keeps an orphaned one', async () => {
      await createExternalSecret(admin, NS, 'orphan', { secretStoreRef: { name: 'aws' }, target: { creationPolicy: 'Orphan' }, data: [{ secretKey: 'k', remoteRef: { key: `${PREFIX}/app-2`, property: 'username' } }] });
      await eventually('orphan synced', 30_000, async () => (await readSecret('orphan'))?.data?.k);
      expect((await readSecret('orphan'))?.metadata?.ownerReferences ?? []).toEqual([]);

      await deleteExternalSecret(admin, NS, 'es-1');
      await deleteExternalSecret(admin, NS, 'orphan');
      await eventually('owned Secret es-1 deleted by the garbage collector', 60_000, async () => ((await readSecret('es-1')) ? undefined : true));
      // The collector has acted on this namespace; the orphaned Secret is still there.
      expect(unb64((await readSecret('orphan'))?.data?.k)).toBe(apps[2]!.username);
    });

    it('no secret value appears in any Redis key or value, nor in any process log', async () => {
      const leaks: string[] = [];
      let keys = 0;
      // A Cluster's keys live on its masters: scan each of them.
      for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
        let cursor = '0';
        do {
          const [next, batch] = await node.scan(cursor, 'COUNT', 1000);
          cursor = next;
          for (const key of batch) {
            keys++;
            const type = await node.type(key);
            const content =
              type === 'string' ? [await node.get(key)]
              : type === 'hash' ? Object.entries(await node.hgetall(key)).flat()
              : type === 'list' ? await node.lrange(key, 0, -1)
              : type === 'set' ? await node.smembers(key)
              : type === 'zset' ? await node.zrange(key, 0, -1)
              : type === 'stream' ? JSON.stringify(await node.xrange(key, '-', '+')).split('\n')
              : [];
            const text = [key, ...content].join('\n');
            for (const v of createdValues) if (text.includes(v)) leaks.push(`redis ${key} contains ${v.slice(0, 8)}…`);
          }
        } while (cursor !== '0');
      }
      expect(keys).toBeGreaterThan(0);
      for (const p of processes) {
        const out = p.output();
        expect(out.length, `${p.name} wrote logs`).toBeGreaterThan(0);
        for (const v of createdValues) if (out.includes(v)) leaks.push(`${p.name} log contains ${v.slice(0, 8)}…`);
      }
      expect(leaks).toEqual([]);
    });
  });
}
