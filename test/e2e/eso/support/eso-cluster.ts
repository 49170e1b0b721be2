// A control plane of the test's own with ESO v0.20.4's CRDs (as a cluster that runs ESO has
// them), optionally with an audit log of every write to Secrets, ExternalSecrets and
// ClusterExternalSecrets (who wrote what: ESO and Herdless run as different users), and the two
// controllers on it: the real ESO binary as the ServiceAccount eso-system/external-secrets
// (cluster-admin, as its chart's role is close to), Herdless's scheduler and worker from the
// production bundle with the chart's RBAC. Everything is stopped by the cluster's stop().
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServiceAccountKubeconfig, ensureEsoBinary, esoCrdManifests, freeLoopbackPorts, startEso, type EsoProcess } from '@herdless/lab';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS } from '@herdless/core';
import { spawnHerdless } from '../../support/processes.js';
import { bindChartRbac } from '../../support/rbac.js';
import { startOwnCluster, type OwnCluster } from '../../../deploy/support/own-cluster.js';
import { injected } from '../../../support/index.js';

export const ESO_USER = 'system:serviceaccount:eso-system:external-secrets';

export interface EsoCluster extends OwnCluster {
  /** Writes of the audit log (create, update, patch, delete that succeeded), when audited. */
  writes(): AuditWrite[];
  startEso(o: { controllerClass?: string; extraArgs?: string[] }): Promise<EsoProcess>;
  /** A scheduler and one worker; returns the users they run as. */
  startHerdless(o: { release: string; controllerClass?: string; extraArgs?: string[]; awsUrl?: string }): Promise<{ scheduler: string; worker: string; schedulerMetricsPort: number }>;
  /** A namespace with a Secret of static AWS credentials `aws-credentials` (keys access-key-id, secret-access-key). */
  namespace(name: string, labels?: Record<string, string>, accessKeyId?: string): Promise<void>;
  /** SecretStore (in `namespace`) or ClusterSecretStore `name` of our AWS endpoint, of `controller` when given. */
  store(o: { kind: 'SecretStore' | 'ClusterSecretStore'; name: string; namespace?: string; controller?: string; service?: 'SecretsManager' | 'ParameterStore'; credentialsNamespace?: string }): Promise<void>;
}

export interface AuditWrite {
  user: string;
  verb: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export async function startEsoCluster(label: string, opts: { audit?: boolean } = {}): Promise<EsoCluster> {
  const eso = await ensureEsoBinary({ log: (line) => process.stderr.write(`[eso] ${line}\n`) });
  let auditLog = '';
  const cluster = await startOwnCluster(label, {
    controlPlane: (dir) => {
      const base = { crds: esoCrdManifests(eso.crdDir) };
      if (!opts.audit) return base;
      const policy = join(dir, 'audit-policy.yaml');
      auditLog = join(dir, 'audit.log');
      writeFileSync(
        policy,
        [
          'apiVersion: audit.k8s.io/v1',
          'kind: Policy',
          'omitStages: [RequestReceived]',
          'rules:',
          '  - level: Metadata',
          '    verbs: [create, update, patch, delete]',
          '    resources:',
          '      - group: ""',
          '        resources: [secrets]',
          '      - group: external-secrets.io',
          '        resources: [externalsecrets, externalsecrets/status, clusterexternalsecrets, clusterexternalsecrets/status]',
          '  - level: None',
          '',
        ].join('\n'),
      );
      return { ...base, apiserverArgs: [`--audit-policy-file=${policy}`, `--audit-log-path=${auditLog}`, '--audit-log-mode=blocking'] };
    },
  });
  const { cp, admin, aws, processes } = cluster;
  const stops: Array<() => Promise<void>> = [];
  const credentials = new Map<string, string>();
  return {
    ...cluster,
    async stop() {
      for (const stop of stops) await stop();
      await cluster.stop();
    },
    writes() {
      if (!auditLog) throw new Error('expected an audited cluster (startEsoCluster(…, { audit: true }))');
      return readFileSync(auditLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { stage: string; verb: string; user: { username: string }; objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string }; responseStatus?: { code?: number } })
        .filter((e) => e.stage === 'ResponseComplete' && (e.responseStatus?.code ?? 500) < 300 && e.objectRef?.resource)
        .map((e) => ({
          user: e.user.username,
          verb: e.verb,
          resource: e.objectRef!.resource!,
          ...(e.objectRef?.subresource ? { subresource: e.objectRef.subresource } : {}),
          ...(e.objectRef?.namespace ? { namespace: e.objectRef.namespace } : {}),
          ...(e.objectRef?.name ? { name: e.objectRef.name } : {}),
        }));
    },
    async startEso(o) {
      const sa = await createServiceAccountKubeconfig(cp, { namespace: 'eso-system', name: 'external-secrets' });
      await admin.kc.makeApiClient((await import('@kubernetes/client-node')).RbacAuthorizationV1Api).createClusterRoleBinding({
        body: {
          metadata: { name: `eso-${Math.random().toString(16).slice(2, 8)}` },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ kind: 'ServiceAccount', name: 'external-secrets', namespace: 'eso-system' }],
        },
      });
      const proc = await startEso({
        kubeconfigPath: sa.kubeconfigPath,
        awsEndpointUrl: aws.url,
        env: { AWS_SSM_ENDPOINT: aws.url, AWS_STS_ENDPOINT: aws.url },
        logLevel: 'info',
        extraArgs: [...(o.controllerClass ? [`--controller-class=${o.controllerClass}`] : []), ...(o.extraArgs ?? [])],
      });
      stops.push(() => proc.stop());
      return proc;
    },
    async startHerdless(o) {
      const system = `${o.release}-system`;
      const kc = cp.kubeConfig();
      const users: Record<string, string> = {};
      const kubeconfig: Record<string, string> = {};
      await admin.core.createNamespace({ body: { metadata: { name: system } } });
      for (const component of ['scheduler', 'worker'] as const) {
        await bindChartRbac(kc, component, system, o.release);
        const sa = await createServiceAccountKubeconfig(cp, { namespace: system, name: `${o.release}-${component}` });
        kubeconfig[component] = sa.kubeconfigPath;
        users[component] = sa.username;
      }
      const [metricsPort] = await freeLoopbackPorts(1);
      const common = [
        '--redis-url', injected('redisUrl'),
        '--queue-prefix', `${o.release}${Date.now()}`,
        '--aws-endpoint', o.awsUrl ?? aws.url,
        '--log-level', 'info',
        ...(o.controllerClass ? ['--controller-class', o.controllerClass] : []),
        ...(o.extraArgs ?? []),
      ];
      processes.push(
        spawnHerdless(`${o.release}-scheduler`, ['scheduler', ...common, '--kubeconfig', kubeconfig.scheduler!, '--namespace', system, '--lease-name', `${o.release}-scheduler`, '--metrics-port', String(metricsPort)]),
        spawnHerdless(`${o.release}-worker`, ['worker', ...common, '--kubeconfig', kubeconfig.worker!]),
      );
      return { scheduler: users.scheduler!, worker: users.worker!, schedulerMetricsPort: metricsPort as number };
    },
    async namespace(name, labels = {}, accessKeyId = `AKID${name.replace(/[^a-z0-9]/g, '').toUpperCase()}`) {
      await admin.core.createNamespace({ body: { metadata: { name, labels } } });
      credentials.set(name, accessKeyId);
      await admin.core.createNamespacedSecret({
        namespace: name,
        body: { metadata: { name: 'aws-credentials' }, stringData: { 'access-key-id': accessKeyId, 'secret-access-key': `secret-of-${accessKeyId}` } },
      });
    },
    async store(o) {
      const credentialsNamespace = o.namespace ?? o.credentialsNamespace;
      const ref = (key: string) => ({ name: 'aws-credentials', key, ...(o.kind === 'ClusterSecretStore' ? { namespace: credentialsNamespace } : {}) });
      const body = {
        apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`,
        kind: o.kind,
        metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) },
        spec: {
          ...(o.controller ? { controller: o.controller } : {}),
          provider: {
            aws: {
              service: o.service ?? 'SecretsManager',
              region: aws.region,
              auth: { secretRef: { accessKeyIDSecretRef: ref('access-key-id'), secretAccessKeySecretRef: ref('secret-access-key') } },
            },
          },
        },
      };
      const base = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS[o.kind] };
      if (o.namespace) await admin.custom.createNamespacedCustomObject({ ...base, namespace: o.namespace, body });
      else await admin.custom.createClusterCustomObject({ ...base, body });
    },
  };
}
