// The chart's RBAC is exactly what the code calls. A control plane of this test's own writes an
// audit log of every request a ServiceAccount makes; the scheduler and workers run from the
// production bundle with the ServiceAccounts and (Cluster)Roles `helm template` renders, through
// every path that calls the API: a SecretStore, a ClusterSecretStore whose namespaceSelector
// makes the worker read a namespace, a store with auth.jwt (the worker reads its ServiceAccount
// and requests a token), a first sync (create), a spec change (update), deletionPolicy Delete
// with no data left (delete), a ClusterExternalSecret fanned out, changed and narrowed (the
// scheduler creates, updates and deletes its ExternalSecrets and patches its status), a template
// read from a ConfigMap (templateFrom), and a
// worker pool that serves a namespace outside its caches (direct reads on a cache miss). Then:
// nothing was refused, every call was granted, and every grant was used.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServiceAccountKubeconfig } from '@herdless/lab';
import { mergePatch } from '@herdless/core';
import { injected } from '../support/index.js';
import { createExternalSecret, createStore, eventually, listExternalSecrets, patchExternalSecretSpec } from '../e2e/support/kube.js';
import { spawnHerdless, stopAll } from '../e2e/support/processes.js';
import { bindChartRbac } from '../e2e/support/rbac.js';
import { renderChart } from './support/helm.js';
import { serviceAccountAudit, showOutputOnFailure, startOwnCluster, type OwnCluster } from './support/own-cluster.js';

const SYSTEM = 'herdless-rbac';
const RELEASE = 'rbac';
let env: OwnCluster;
const audit = serviceAccountAudit();


/** "apiGroup resource[/subresource] verb", the unit RBAC grants. */
const call = (group: string | undefined, resource: string, verb: string) => `${group || 'core'} ${resource} ${verb}`;

beforeAll(async () => {
  env = await startOwnCluster('rbac-audit', { controlPlane: audit.controlPlane });
  const { cp, admin, aws, processes } = env;
  aws.putSecret({ name: 'app/one', secretString: JSON.stringify({ user: 'u1', password: 'p1' }) });

  for (const [name, labels] of [[SYSTEM, {}], ['team-a', { tier: 'gold' }], ['team-b', { tier: 'gold' }], ['decoy', {}]] as const) {
    await admin.core.createNamespace({ body: { metadata: { name, labels } } });
  }
  for (const ns of [SYSTEM, 'team-a', 'team-b']) {
    await admin.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'aws-credentials' }, stringData: { 'access-key-id': 'AKIDRBAC', 'secret-access-key': 'rbac-secret' } } });
  }
  const provider = (namespace?: string) => {
    const ref = (key: string) => ({ name: 'aws-credentials', key, ...(namespace ? { namespace } : {}) });
    return { aws: { service: 'SecretsManager', region: aws.region, auth: { secretRef: { accessKeyIDSecretRef: ref('access-key-id'), secretAccessKeySecretRef: ref('secret-access-key') } } } };
  };
  await createStore(admin, 'SecretStore', 'aws', 'team-a', { provider: provider() });
  await createStore(admin, 'SecretStore', 'aws', 'team-b', { provider: provider() });
  await createStore(admin, 'ClusterSecretStore', 'gold', undefined, { provider: provider(SYSTEM), conditions: [{ namespaceSelector: { matchLabels: { tier: 'gold' } } }] });
  // auth.jwt: the worker reads the ServiceAccount's role annotation and requests a token for it.
  // (Our endpoint knows no such role, so the sync ends AccessDenied: only the calls matter here.)
  await admin.core.createNamespacedServiceAccount({ namespace: 'team-a', body: { metadata: { name: 'app', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111111111111:role/rbac-app' } } } });
  await createStore(admin, 'SecretStore', 'jwt', 'team-a', { provider: { aws: { service: 'SecretsManager', region: aws.region, auth: { jwt: { serviceAccountRef: { name: 'app' } } } } } });

  const kc = cp.kubeConfig();
  const kubeconfig: Record<string, string> = {};
  for (const component of ['scheduler', 'worker'] as const) {
    await bindChartRbac(kc, component, SYSTEM, RELEASE);
    kubeconfig[component] = (await createServiceAccountKubeconfig(cp, { namespace: SYSTEM, name: `${RELEASE}-${component}` })).kubeconfigPath;
  }
  const common = ['--redis-url', injected('redisUrl'), '--queue-prefix', `rbac${Date.now()}`, '--aws-endpoint', aws.url, '--log-level', 'warn'];
  processes.push(
    spawnHerdless('scheduler', ['scheduler', ...common, '--kubeconfig', kubeconfig.scheduler!, '--namespace', SYSTEM, '--lease-name', `${RELEASE}-scheduler`, '--shards', 'default,miss', '--namespace-shards', 'team-b=miss']),
    spawnHerdless('worker', ['worker', ...common, '--kubeconfig', kubeconfig.worker!, '--shards', 'default']),
    // Its caches hold only the empty namespace "decoy", so team-b's syncs read the ExternalSecret,
    // the SecretStore and the Namespace's labels directly.
    spawnHerdless('worker-miss', ['worker', ...common, '--kubeconfig', kubeconfig.worker!, '--shards', 'miss', '--watch-namespace', 'decoy']),
  );

  const data = (key: string) => [{ secretKey: key, remoteRef: { key: 'app/one', property: 'password' } }];
  await createExternalSecret(admin, 'team-a', 'through-store', { secretStoreRef: { name: 'aws', kind: 'SecretStore' }, data: data('password') });
  await createExternalSecret(admin, 'team-a', 'through-cluster-store', { secretStoreRef: { name: 'gold', kind: 'ClusterSecretStore' }, data: data('password') });
  await createExternalSecret(admin, 'team-b', 'cache-miss', { secretStoreRef: { name: 'aws', kind: 'SecretStore' }, data: data('password') });
  await createExternalSecret(admin, 'team-b', 'cluster-store-miss', { secretStoreRef: { name: 'gold', kind: 'ClusterSecretStore' }, data: data('password') });
  // templateFrom: the worker reads the ConfigMap from the ExternalSecret's namespace.
  await admin.core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'tpl' }, data: { dsn: 'db://{{ .password }}' } } });
  await createExternalSecret(admin, 'team-a', 'templated', {
    secretStoreRef: { name: 'aws', kind: 'SecretStore' },
    target: { template: { templateFrom: [{ configMap: { name: 'tpl', items: [{ key: 'dsn' }] } }] } },
    data: data('password'),
  });
  await createExternalSecret(admin, 'team-a', 'through-jwt', { secretStoreRef: { name: 'jwt', kind: 'SecretStore' }, data: data('password') });
  const find = (regexp: string) => [{ find: { name: { regexp } } }];
  await createExternalSecret(admin, 'team-a', 'deleted-when-empty', { secretStoreRef: { name: 'aws', kind: 'SecretStore' }, target: { deletionPolicy: 'Delete' }, dataFrom: find('^app/') });
  await eventually('six ExternalSecrets Ready and the jwt one refused by STS', 120_000, async () => {
    const all = [...(await listExternalSecrets(admin, 'team-a')), ...(await listExternalSecrets(admin, 'team-b'))];
    const ready = all.filter((e) => e.ready === 'True').length;
    return ready === 6 && all.find((e) => e.name === 'through-jwt')?.ready === 'False' ? true : undefined;
  });
  // deletionPolicy Delete: when the provider has no data any more, the worker deletes the Secret.
  await patchExternalSecretSpec(admin, 'team-a', 'deleted-when-empty', { dataFrom: find('^matches-nothing/') });
  await eventually('the Secret deleted for want of data', 60_000, async () =>
    admin.core.readNamespacedSecret({ namespace: 'team-a', name: 'deleted-when-empty' }).then(
      () => undefined,
      (e: { code?: number }) => (e.code === 404 ? true : undefined),
    ),
  );
  // A spec change: the worker replaces the Secret it created.
  await patchExternalSecretSpec(admin, 'team-a', 'through-store', { data: data('renamed') });
  await eventually('the Secret rewritten for the new spec', 60_000, async () => {
    const s = await admin.core.readNamespacedSecret({ namespace: 'team-a', name: 'through-store' });
    return s.data?.renamed ? true : undefined;
  });
  // A ClusterExternalSecret: the leader creates its ExternalSecret in each chosen namespace and
  // writes its status, updates them when it changes, and deletes one from a namespace no longer chosen.
  const ces = { group: 'external-secrets.io', version: 'v1', plural: 'clusterexternalsecrets' };
  await admin.custom.createClusterCustomObject({
    ...ces,
    body: {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ClusterExternalSecret',
      metadata: { name: 'fan-out' },
      spec: { namespaceSelectors: [{ matchLabels: { tier: 'gold' } }], externalSecretSpec: { secretStoreRef: { name: 'gold', kind: 'ClusterSecretStore' }, data: data('password') } },
    },
  });
  const fanOut = async () => (await Promise.all(['team-a', 'team-b'].map((ns) => listExternalSecrets(admin, ns)))).map((l) => l.some((e) => e.name === 'fan-out'));
  await eventually('the ClusterExternalSecret provisioned in team-a and team-b', 60_000, async () => ((await fanOut()).every(Boolean) ? true : undefined));
  await admin.custom.patchClusterCustomObject({ ...ces, name: 'fan-out', body: { spec: { namespaceSelectors: null, namespaces: ['team-a'], externalSecretMetadata: { labels: { moved: 'yes' } } } } }, mergePatch);
  await eventually('its ExternalSecret updated in team-a and deleted from team-b', 60_000, async () => {
    const [a, b] = await fanOut();
    const labels = ((await admin.custom.getNamespacedCustomObject({ group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets', namespace: 'team-a', name: 'fan-out' })) as { metadata: { labels?: Record<string, string> } }).metadata.labels;
    return a && !b && labels?.moved === 'yes' ? true : undefined;
  });
  await stopAll(processes);
}, 300_000);

afterEach(showOutputOnFailure(() => env));
afterAll(() => env?.stop());

describe("the chart's RBAC against the audit log of a run", () => {
  it.each([
    ['scheduler', []],
    // Read only when a ClusterSecretStore is not yet in the worker's cache (created a moment
    // before its first sync); no deterministic run reaches it.
    ['worker', ['external-secrets.io clustersecretstores get']],
  ] as const)('the %s: nothing refused, every call granted, every grant used', async (component, unreachable) => {
    const username = `system:serviceaccount:${SYSTEM}:${RELEASE}-${component}`;
    const events = audit.requestsOf(username);
    expect(events.length).toBeGreaterThan(0);
    const refused = events.filter((e) => e.responseStatus?.code === 403).map((e) => `${e.verb} ${e.objectRef?.resource}`);
    expect(refused).toEqual([]);

    const used = new Set(events.map((e) => call(e.objectRef?.apiGroup, [e.objectRef?.resource, e.objectRef?.subresource].filter(Boolean).join('/'), e.verb)));
    const objects = await renderChart({ namespace: SYSTEM, release: RELEASE, values: { fullnameOverride: RELEASE } });
    const roles = objects.filter((o) => (o.kind === 'ClusterRole' || o.kind === 'Role') && o.metadata?.labels?.['app.kubernetes.io/component'] === component) as Array<{ rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> }>;
    const granted = new Set(roles.flatMap((r) => r.rules.flatMap((rule) => rule.apiGroups.flatMap((g) => rule.resources.flatMap((res) => rule.verbs.map((v) => call(g, res, v)))))));

    expect([...used].filter((c) => !granted.has(c)).sort(), 'calls made without a grant').toEqual([]);
    expect([...granted].filter((c) => !used.has(c)).sort(), 'grants never used').toEqual([...unreachable]);
  });
});
