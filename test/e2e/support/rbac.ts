// Binds ServiceAccounts with the RBAC that `helm template` renders from deploy/chart (release
// `<release>`, fullnameOverride `<release>`, so the ServiceAccount is `<release>-<component>`):
// the end-to-end processes get exactly the objects and permissions a Helm install creates — no admin.
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject, type V1PolicyRule } from '@kubernetes/client-node';
import { renderChart, renderChartSync } from '../../deploy/support/helm.js';

const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
const componentOf = (o: KubernetesObject) => o.metadata?.labels?.['app.kubernetes.io/component'];

/**
 * The rules the chart grants (default values): a component's ClusterRole, or the scheduler's
 * Lease Role. Synchronous: needs the cached helm (scripts/test.sh, or any bindChartRbac first).
 */
export function chartRules(name: 'scheduler-rules' | 'worker-rules' | 'scheduler-lease-rules'): V1PolicyRule[] {
  const objects = renderChartSync({ values: { fullnameOverride: 'herdless' } });
  const kind = name === 'scheduler-lease-rules' ? 'Role' : 'ClusterRole';
  const component = name === 'worker-rules' ? 'worker' : 'scheduler';
  const found = objects.find((o) => o.kind === kind && componentOf(o) === component) as { rules?: V1PolicyRule[] } | undefined;
  if (!found?.rules) throw new Error(`helm template rendered no ${kind} for the ${component}`);
  return found.rules;
}

async function ignoreConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if ((e as { code?: number }).code !== 409) throw e;
  }
}

/** Creates what `helm template` renders for a component's identity: its ServiceAccount, (Cluster)Roles and bindings. */
export async function bindChartRbac(kc: KubeConfig, component: 'scheduler' | 'worker', namespace: string, release: string, values: Record<string, unknown> = {}): Promise<void> {
  const objects = await renderChart({ release, namespace, values: { fullnameOverride: release, ...values } });
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const o of objects.filter((x) => RBAC_KINDS.has(x.kind as string) && componentOf(x) === component)) {
    await ignoreConflict(api.create(o));
  }
}
