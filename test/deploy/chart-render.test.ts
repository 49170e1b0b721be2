// What `helm template` renders, read as objects: each container's security context, resources
// and probes; each value of ci/large-cluster.yaml reaching the containers' env or args (the
// README's configuration table is the map, and every flag of the processes is in it) or the
// object it configures; Redis without a password in any value; scaling without a replicas
// fight; release-unique cluster-scoped names; namespaced RBAC; the CRDs as `herdless crds`
// prints them.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { flagName, renderCrdsYaml } from '@herdless/core';
import { schedulerConfigSchema } from '@herdless/scheduler';
import { workerConfigSchema } from '@herdless/worker';
import { CHART_DIR, LARGE_CLUSTER_VALUES, objectsOf, parseManifests, renderChart } from './support/helm.js';
import { configurationTable, type ConfigurationRow } from './support/readme.js';

type Obj = Record<string, any>;
const COMPONENTS = ['scheduler', 'worker'] as const;

const large = parse(readFileSync(LARGE_CLUSTER_VALUES, 'utf8')) as Obj;
const defaults = parse(readFileSync(`${CHART_DIR}values.yaml`, 'utf8')) as Obj;

function get(o: Obj | undefined, path: string): any {
  return path.split('.').reduce<any>((v, k) => (v === undefined || v === null ? undefined : v[k]), o);
}
/** Every leaf of a values tree, as dotted paths (arrays and empty maps are leaves). */
function leaves(o: Obj, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}
const deployment = (objects: Obj[], component: string) => objectsOf<Obj>(objects, 'Deployment', component)[0] as Obj;
const container = (objects: Obj[], component: string) => deployment(objects, component).spec.template.spec.containers[0] as Obj;
const envOf = (c: Obj, name: string) => (c.env as Obj[]).find((e) => e.name === name);
/** How the chart writes a value into one variable: lists joined with ",", maps as sorted k=v pairs. */
function asVariable(v: unknown): string {
  if (Array.isArray(v)) return v.join(',');
  if (v && typeof v === 'object') return Object.keys(v).sort().map((k) => `${k}=${String((v as Obj)[k])}`).join(',');
  return String(v);
}

let defaultObjects: Obj[];
let largeObjects: Obj[];
/** Value paths of large-cluster.yaml that a test below saw reach the rendered objects. */
const reached = new Set<string>();

beforeAll(async () => {
  [defaultObjects, largeObjects] = (await Promise.all([renderChart(), renderChart({ valuesFiles: [LARGE_CLUSTER_VALUES] })])) as [Obj[], Obj[]];
});

describe('every container, with the default and the large-cluster values', () => {
  it('runs non-root on a read-only root file system, all capabilities dropped, no privilege escalation, seccomp RuntimeDefault (Pod Security restricted)', () => {
    for (const [label, objects] of [['default', defaultObjects], ['large', largeObjects]] as const) {
      for (const component of COMPONENTS) {
        const pod = deployment(objects, component).spec.template.spec;
        expect(pod.securityContext, `${label} ${component} pod`).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
        for (const c of pod.containers as Obj[]) {
          expect(c.securityContext, `${label} ${component} container`).toMatchObject({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          });
        }
      }
    }
  });

  it('has CPU and memory requests, a memory limit, and probes on /healthz and /readyz of the metrics port', () => {
    for (const [label, objects] of [['default', defaultObjects], ['large', largeObjects]] as const) {
      for (const component of COMPONENTS) {
        const c = container(objects, component);
        expect(c.resources, `${label} ${component}`).toMatchObject({ requests: { cpu: expect.anything(), memory: expect.anything() }, limits: { memory: expect.anything() } });
        expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
        expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
        const port = (c.ports as Obj[]).find((p) => p.name === 'metrics')?.containerPort;
        expect(envOf(c, 'HERDLESS_METRICS_PORT')?.value).toBe(String(port));
      }
    }
    expect(container(largeObjects, 'worker').resources).toEqual(large.worker.resources);
    expect(container(largeObjects, 'scheduler').resources).toEqual(large.scheduler.resources);
    reached.add('scheduler.resources').add('worker.resources');
  });
});

describe('the README configuration table', () => {
  const rows = configurationTable();
  // Redis rows show in the mode they belong to: large-cluster is Sentinel; these variants are
  // the rest, and the namespaced installation (large-cluster serves every namespace).
  const variants: Array<[string, Obj]> = [
    ['large-cluster (sentinel)', {}],
    ['one namespace', { watchNamespace: 'team-a' }],
    ['standalone URL', { redis: { mode: 'standalone', url: 'rediss://redis.example:6380/2', sentinel: { nodes: [] } } }],
    ['cluster', { redis: { mode: 'cluster', cluster: { nodes: ['redis-0.redis:6379', 'redis-1.redis:6379'] }, sentinel: { nodes: [] } } }],
  ];
  let rendered: Array<[string, Obj[], Obj]>;
  beforeAll(async () => {
    rendered = await Promise.all(
      variants.map(async ([name, over]) => {
        const values = mergeDeep(mergeDeep(structuredClone(defaults), large), over);
        const objects = (await renderChart({ valuesFiles: [LARGE_CLUSTER_VALUES], values: over })) as Obj[];
        return [name, objects, values] as [string, Obj[], Obj];
      }),
    );
  });

  it('names every flag of the scheduler and the worker', () => {
    const documented = new Set(rows.flatMap((r) => r.flags));
    const flags = [...Object.keys(schedulerConfigSchema.shape), ...Object.keys(workerConfigSchema.shape)].map(flagName);
    expect(flags.filter((f) => !documented.has(f))).toEqual([]);
    // A flag the table names must exist, unless the row says the processes do not read it yet.
    const known = new Set(flags);
    expect(rows.filter((r) => !r.pending).flatMap((r) => r.flags).filter((f) => !known.has(f))).toEqual([]);
  });

  it('each row\'s chart value reaches the environment variables it names, in the containers of its process', () => {
    const problems: string[] = [];
    for (const row of rows) {
      const components = row.process === 'both' ? COMPONENTS : [row.process];
      const first = row.values[0];
      if (first?.endsWith('.extraArgs')) continue; // the next test
      const passes = rendered.some(([, objects, values]) => components.every((component) => checkRow(row, container(objects, component), values).length === 0));
      if (!passes) {
        const [name, objects, values] = rendered[0] as [string, Obj[], Obj];
        problems.push(...components.flatMap((component) => checkRow(row, container(objects, component), values).map((p) => `${row.valueCell} (${component}, ${name}): ${p}`)));
      }
      for (const v of row.values) reached.add(v);
    }
    expect(problems).toEqual([]);
  });

  it('extraArgs follow the command, extraEnv is added, and no password is ever a plain value', () => {
    for (const component of COMPONENTS) {
      const c = container(largeObjects, component);
      expect(c.args).toEqual([component, ...large[component].extraArgs]);
      for (const e of large[component].extraEnv as Obj[]) expect(envOf(c, e.name)).toEqual(e);
      for (const e of c.env as Obj[]) if (/PASSWORD|URL/.test(e.name) && e.valueFrom === undefined) expect(String(e.value)).not.toMatch(/:[^/@]+@/);
      for (const e of c.env as Obj[]) if (/PASSWORD/.test(e.name)) expect(e.valueFrom?.secretKeyRef, e.name).toBeDefined();
      reached.add(`${component}.extraArgs`).add(`${component}.extraEnv`);
    }
  });

  function checkRow(row: ConfigurationRow, c: Obj, values: Obj): string[] {
    const problems: string[] = [];
    for (const name of row.env) {
      const env = envOf(c, name);
      if (row.valueCell === 'in-cluster' || row.valueCell === "EKS's IRSA webhook") {
        if (env) problems.push(`${name} is set by the chart; in a cluster Kubernetes (or EKS's webhook) provides it`);
        continue;
      }
      if (!env) {
        problems.push(`${name} not in the container`);
        continue;
      }
      if (row.valueCell === 'the release namespace') {
        if (env.valueFrom?.fieldRef?.fieldPath !== 'metadata.namespace') problems.push(`${name} is not the pod's namespace`);
        continue;
      }
      if (row.valueCell === "the pod's name") {
        if (env.valueFrom?.fieldRef?.fieldPath !== 'metadata.name') problems.push(`${name} is not the pod's name`);
        continue;
      }
      const path = row.values[0] as string;
      const value = get(values, path);
      if (env.valueFrom?.secretKeyRef) {
        const secretName = typeof value === 'object' ? (value.existingSecret ?? value.name) : value;
        if (env.valueFrom.secretKeyRef.name !== secretName) problems.push(`${name} reads Secret ${env.valueFrom.secretKeyRef.name}, expected ${secretName}`);
      } else if (name.endsWith('_FILE')) {
        const mounted = (c.volumeMounts as Obj[] | undefined)?.find((m) => String(env.value).startsWith(`${m.mountPath}/`));
        if (!mounted) problems.push(`${name}=${env.value} is not in a mounted volume`);
      } else if (env.value !== asVariable(value)) {
        problems.push(`${name}=${String(env.value)}, expected ${asVariable(value)} from ${path}`);
      }
    }
    return problems;
  }
});

describe('values that configure objects rather than processes', () => {
  it('reach the Deployments, ServiceAccounts, PDBs, KEDA, monitoring, NetworkPolicy and CRDs', () => {
    const o = largeObjects;
    const checks: Array<[string, () => void]> = [
      ['fullnameOverride', () => expect(deployment(o, 'worker').metadata.name).toBe(`${large.fullnameOverride}-worker`)],
      ['commonLabels', () => o.forEach((x) => expect(x.metadata.labels, `${x.kind} ${x.metadata.name}`).toMatchObject(large.commonLabels))],
      ['image', () => expect(container(o, 'worker')).toMatchObject({ image: `${large.image.repository}@${large.image.digest}`, imagePullPolicy: large.image.pullPolicy })],
      ['imagePullSecrets', () => expect(deployment(o, 'worker').spec.template.spec.imagePullSecrets).toEqual(large.imagePullSecrets)],
      ['crds', () => {
        const crds = objectsOf<Obj>(o, 'CustomResourceDefinition');
        expect(crds).toHaveLength(4);
        for (const crd of crds) expect(crd.metadata.annotations).toMatchObject({ ...large.crds.annotations, 'helm.sh/resource-policy': 'keep' });
      }],
      ['metrics.port', () => expect(objectsOf<Obj>(o, 'Service')[0]?.spec.ports[0].port).toBe(large.metrics.port)],
      ['metrics.service', () => expect(objectsOf<Obj>(o, 'Service').map((s) => s.metadata.annotations)).toEqual([large.metrics.service.annotations, large.metrics.service.annotations])],
      ['metrics.serviceMonitor', () => {
        const monitors = objectsOf<Obj>(o, 'ServiceMonitor');
        expect(monitors).toHaveLength(2);
        for (const m of monitors) {
          expect(m.metadata.labels).toMatchObject(large.metrics.serviceMonitor.labels);
          expect(m.spec.endpoints[0]).toMatchObject({ port: 'metrics', interval: large.metrics.serviceMonitor.interval, scrapeTimeout: large.metrics.serviceMonitor.scrapeTimeout });
        }
      }],
      ['metrics.prometheusRule', () => {
        const [rule] = objectsOf<Obj>(o, 'PrometheusRule');
        expect(rule?.metadata.labels).toMatchObject(large.metrics.prometheusRule.labels);
        // The chart's rules are the file promtool checks and tests, not a copy of it.
        const file = parse(readFileSync(`${CHART_DIR}files/herdless-rules.yaml`, 'utf8')) as Obj;
        const additional = large.metrics.prometheusRule.additionalRules ?? [];
        expect(rule?.spec.groups).toEqual([...file.groups, ...(additional.length ? [{ name: 'herdless-additional', rules: additional }] : [])]);
        expect(readFileSync(`${CHART_DIR}../alerts/herdless-rules.yaml`, 'utf8')).toBe(readFileSync(`${CHART_DIR}files/herdless-rules.yaml`, 'utf8'));
      }],
      ['metrics.dashboard', () => {
        const [dashboard] = objectsOf<Obj>(o, 'ConfigMap');
        expect(dashboard?.metadata.labels.grafana_dashboard).toBe('1');
        expect(dashboard?.data['herdless.json']).toBe(readFileSync(`${CHART_DIR}files/dashboard.json`, 'utf8').trimEnd());
        expect(readFileSync(`${CHART_DIR}../dashboards/herdless.json`, 'utf8')).toBe(readFileSync(`${CHART_DIR}files/dashboard.json`, 'utf8'));
      }],
      ['networkPolicy', () => {
        const policies = objectsOf<Obj>(o, 'NetworkPolicy');
        expect(policies).toHaveLength(2);
        for (const p of policies) {
          expect(p.spec.ingress[0].from).toEqual(large.networkPolicy.metricsFrom);
          const redis = (p.spec.egress as Obj[]).find((e) => e.to);
          expect(redis?.to).toEqual(large.networkPolicy.redisTo);
          expect(redis?.ports.map((x: Obj) => x.port).sort((x: number, y: number) => x - y)).toEqual([6380, 26379]);
        }
      }],
      ['scheduler.replicas', () => expect(deployment(o, 'scheduler').spec.replicas).toBe(large.scheduler.replicas)],
      ['worker.keda', () => {
        expect(deployment(o, 'worker').spec.replicas).toBeUndefined();
        const [scaled] = objectsOf<Obj>(o, 'ScaledObject');
        const k = large.worker.keda;
        expect(scaled?.spec).toMatchObject({ minReplicaCount: k.minReplicaCount, maxReplicaCount: k.maxReplicaCount, pollingInterval: k.pollingInterval, cooldownPeriod: k.cooldownPeriod });
        expect(scaled?.spec.triggers.map((t: Obj) => t.metadata.listName)).toEqual(
          large.shards.flatMap((s: string) => [`${large.queuePrefix}:sync-{${s}}:prioritized`, `${large.queuePrefix}:sync-{${s}}:wait`]),
        );
        for (const t of scaled?.spec.triggers as Obj[]) expect(t.metadata.listLength).toBe(String(k.jobsPerReplica));
      }],
    ];
    for (const component of COMPONENTS) {
      const v = large[component];
      const pod = () => deployment(o, component).spec.template.spec;
      checks.push(
        [`${component}.podDisruptionBudget`, () => {
          const pdb = objectsOf<Obj>(o, 'PodDisruptionBudget', component)[0]?.spec;
          const { enabled: _, ...budget } = v.podDisruptionBudget;
          expect(pdb).toMatchObject(budget);
        }],
        [`${component}.serviceAccount`, () => expect(objectsOf<Obj>(o, 'ServiceAccount', component)[0]?.metadata.annotations).toEqual(v.serviceAccount.annotations)],
        [`${component}.nodeSelector`, () => expect(pod().nodeSelector).toEqual(v.nodeSelector)],
        [`${component}.tolerations`, () => expect(pod().tolerations).toEqual(v.tolerations)],
        [`${component}.topologySpreadConstraints`, () => expect(pod().topologySpreadConstraints).toEqual(v.topologySpreadConstraints.map((c: Obj) => ({ ...c, labelSelector: expect.anything() })))],
        [`${component}.priorityClassName`, () => expect(pod().priorityClassName).toBe(v.priorityClassName)],
        [`${component}.podAnnotations`, () => expect(deployment(o, component).spec.template.metadata.annotations).toEqual(v.podAnnotations)],
        [`${component}.podLabels`, () => expect(deployment(o, component).spec.template.metadata.labels).toMatchObject(v.podLabels)],
      );
      if (v.affinity) checks.push([`${component}.affinity`, () => expect(pod().affinity).toEqual(v.affinity)]);
    }
    const failures: string[] = [];
    for (const [path, check] of checks) {
      try {
        check();
        reached.add(path);
      } catch (e) {
        failures.push(`${path}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('every value in ci/large-cluster.yaml is one of those seen above reaching its object or container', () => {
    const unseen = leaves(large).filter((leaf) => ![...reached].some((p) => leaf === p || leaf.startsWith(`${p}.`)));
    expect(unseen).toEqual([]);
  });
});

describe('Redis', () => {
  it('standalone: the URL from redis.url, from host/port/db (rediss:// with TLS), or from an existing Secret', async () => {
    const url = async (values: object) => envOf(container((await renderChart({ values })) as Obj[], 'worker'), 'HERDLESS_REDIS_URL');
    expect(await url({})).toEqual({ name: 'HERDLESS_REDIS_URL', value: 'redis://redis:6379/0' });
    expect(await url({ redis: { host: 'r.example', port: 6380, db: 3, tls: { enabled: true } } })).toEqual({ name: 'HERDLESS_REDIS_URL', value: 'rediss://r.example:6380/3' });
    expect(await url({ redis: { url: 'redis://r.example:6379/1' } })).toEqual({ name: 'HERDLESS_REDIS_URL', value: 'redis://r.example:6379/1' });
    expect(await url({ redis: { urlSecret: { name: 'redis-url', key: 'url' } } })).toEqual({
      name: 'HERDLESS_REDIS_URL',
      valueFrom: { secretKeyRef: { name: 'redis-url', key: 'url' } },
    });
  });

  it('TLS mounts the CA and the client certificate from their Secrets, read-only, where the variables point', () => {
    const c = container(largeObjects, 'worker');
    const volumes = deployment(largeObjects, 'worker').spec.template.spec.volumes as Obj[];
    expect(volumes.map((v) => v.secret.secretName).sort()).toEqual([large.redis.tls.caSecret.name, large.redis.tls.clientCertSecret.name].sort());
    for (const m of c.volumeMounts as Obj[]) expect(m.readOnly).toBe(true);
    expect(envOf(c, 'HERDLESS_REDIS_TLS_CA_FILE')?.value).toBe(`${(c.volumeMounts as Obj[])[0]?.mountPath}/${large.redis.tls.caSecret.key}`);
  });
});

describe('scaling', () => {
  it('the Deployment has replicas without autoscaling, none with the HPA (which owns the count), and PDBs can be switched off', async () => {
    const hpa = (await renderChart({ values: { worker: { autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 30 } } } })) as Obj[];
    expect(deployment(defaultObjects, 'worker').spec.replicas).toBe(2);
    expect(deployment(hpa, 'worker').spec.replicas).toBeUndefined();
    expect(objectsOf<Obj>(hpa, 'HorizontalPodAutoscaler')[0]?.spec).toMatchObject({ minReplicas: 3, maxReplicas: 30, scaleTargetRef: { name: deployment(hpa, 'worker').metadata.name } });
    const noPdb = (await renderChart({ values: { scheduler: { podDisruptionBudget: { enabled: false } }, worker: { podDisruptionBudget: { enabled: false } } } })) as Obj[];
    expect(objectsOf(noPdb, 'PodDisruptionBudget')).toEqual([]);
    expect(objectsOf(defaultObjects, 'PodDisruptionBudget')).toHaveLength(2);
  });
});

describe('RBAC and names', () => {
  it('two releases of the same name in two namespaces share no cluster-scoped name', async () => {
    const [a, b] = (await Promise.all([renderChart({ namespace: 'tenant-a', values: { crds: { install: false } } }), renderChart({ namespace: 'tenant-b', values: { crds: { install: false } } })])) as [Obj[], Obj[]];
    const clusterScoped = (objects: Obj[]) => objects.filter((x) => !x.metadata.namespace).map((x) => `${x.kind}/${x.metadata.name}`);
    expect(clusterScoped(a).length).toBeGreaterThan(0);
    expect(clusterScoped(a).filter((n) => clusterScoped(b).includes(n))).toEqual([]);
  });

  it('with watchNamespace, namespaced resources are granted by Roles in that namespace only; the ClusterRoles keep ClusterSecretStores and that one namespace', async () => {
    const objects = (await renderChart({ values: { watchNamespace: 'team-a' } })) as Obj[];
    for (const component of COMPONENTS) {
      const [role] = objectsOf<Obj>(objects, 'Role', component).filter((r) => r.metadata.namespace === 'team-a');
      expect(role?.rules.flatMap((r: Obj) => r.resources)).not.toContain('clustersecretstores');
      expect(objectsOf<Obj>(objects, 'RoleBinding', component).some((b) => b.metadata.namespace === 'team-a' && b.roleRef.name === role?.metadata.name)).toBe(true);
      const [clusterRole] = objectsOf<Obj>(objects, 'ClusterRole', component);
      for (const rule of clusterRole?.rules as Obj[]) {
        expect(rule.resources.every((r: string) => r === 'clustersecretstores' || r === 'namespaces')).toBe(true);
        if (rule.resources.includes('namespaces')) expect(rule.resourceNames).toEqual(['team-a']);
      }
    }
  });
});

describe('CRDs', () => {
  it('are the ones `herdless crds` prints, kept on uninstall, and left out with crds.install=false', async () => {
    const generated = parseManifests(renderCrdsYaml()) as Obj[];
    const chart = objectsOf<Obj>(defaultObjects, 'CustomResourceDefinition');
    expect(chart.map((c) => c.spec)).toEqual(generated.map((c) => c.spec));
    for (const crd of chart) expect(crd.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    expect(objectsOf(await renderChart({ values: { crds: { install: false } } }), 'CustomResourceDefinition')).toEqual([]);
  });
});

function mergeDeep(target: Obj, source: Obj): Obj {
  for (const [k, v] of Object.entries(source)) {
    target[k] = v && typeof v === 'object' && !Array.isArray(v) && target[k] && typeof target[k] === 'object' ? mergeDeep(target[k], v) : v;
  }
  return target;
}
