// Binds ServiceAccounts with the chart's own RBAC rules (deploy/chart/files/*.yaml), so the
// end-to-end processes get exactly the permissions a Helm install grants — no admin.
import { readFileSync } from 'node:fs';
import { RbacAuthorizationV1Api, type KubeConfig, type V1PolicyRule } from '@kubernetes/client-node';
import { parse } from 'yaml';

const rulesFile = (name: string) => new URL(`../../../deploy/chart/files/${name}.yaml`, import.meta.url);

export function chartRules(name: 'scheduler-rules' | 'worker-rules' | 'scheduler-lease-rules'): V1PolicyRule[] {
  return parse(readFileSync(rulesFile(name), 'utf8')) as V1PolicyRule[];
}

async function ignoreConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if ((e as { code?: number }).code !== 409) throw e;
  }
}

/** ClusterRole + binding for a component, plus the lease Role for the scheduler. */
export async function bindChartRbac(kc: KubeConfig, component: 'scheduler' | 'worker', namespace: string, release: string): Promise<void> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const name = `${release}-${component}`;
  const subject = { kind: 'ServiceAccount', name, namespace };
  await ignoreConflict(rbac.createClusterRole({ body: { metadata: { name }, rules: chartRules(`${component}-rules`) } }));
  await ignoreConflict(
    rbac.createClusterRoleBinding({
      body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [subject] },
    }),
  );
  if (component === 'scheduler') {
    const lease = `${release}-scheduler-lease`;
    await ignoreConflict(rbac.createNamespacedRole({ namespace, body: { metadata: { name: lease }, rules: chartRules('scheduler-lease-rules') } }));
    await ignoreConflict(
      rbac.createNamespacedRoleBinding({
        namespace,
        body: { metadata: { name: lease }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: lease }, subjects: [subject] },
      }),
    );
  }
}
