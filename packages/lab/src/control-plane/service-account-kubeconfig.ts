// Credentials of a ServiceAccount on the local control plane, as a kubeconfig: end-to-end
// tests run the scheduler and workers with these, so the chart's RBAC is what grants (or
// denies) them, exactly as in a cluster. The token comes from the TokenRequest API (bound,
// expiring), never from a legacy token Secret.
import { join } from 'node:path';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { writeKubeconfig } from './kubeconfig.js';
import type { ControlPlane } from './start-control-plane.js';

export interface ServiceAccountKubeconfigOptions {
  namespace: string;
  name: string;
  /** Token lifetime. Default 6 h (the API server's minimum is 10 min). */
  expirationSeconds?: number;
  /** Where to write it; default `<run dir>/sa-<namespace>-<name>.kubeconfig`. */
  path?: string;
}

export interface ServiceAccountKubeconfig {
  kubeconfigPath: string;
  token: string;
  /** `system:serviceaccount:<namespace>:<name>`, the user name RBAC subjects match. */
  username: string;
  expiresAt: Date;
}

type ControlPlaneAccess = Pick<ControlPlane, 'kubeConfig' | 'server' | 'caPem' | 'dir'>;

/** Creates the namespace and ServiceAccount when missing, mints a token, writes a kubeconfig. */
export async function createServiceAccountKubeconfig(
  cp: ControlPlaneAccess,
  opts: ServiceAccountKubeconfigOptions,
): Promise<ServiceAccountKubeconfig> {
  const core = cp.kubeConfig().makeApiClient(CoreV1Api);
  await ignoreConflict(core.createNamespace({ body: { metadata: { name: opts.namespace } } }));
  await ignoreConflict(
    core.createNamespacedServiceAccount({ namespace: opts.namespace, body: { metadata: { name: opts.name } } }),
  );
  const request = await core.createNamespacedServiceAccountToken({
    name: opts.name,
    namespace: opts.namespace,
    body: { spec: { audiences: [], expirationSeconds: opts.expirationSeconds ?? 6 * 3600 } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`TokenRequest for ${opts.namespace}/${opts.name} returned no token`);
  const kubeconfigPath = await writeKubeconfig(opts.path ?? join(cp.dir, `sa-${opts.namespace}-${opts.name}.kubeconfig`), {
    name: `${opts.namespace}-${opts.name}`,
    server: cp.server,
    caPem: cp.caPem,
    credential: { token },
    namespace: opts.namespace,
  });
  return {
    kubeconfigPath,
    token,
    username: `system:serviceaccount:${opts.namespace}:${opts.name}`,
    expiresAt: new Date(request.status?.expirationTimestamp ?? Date.now()),
  };
}

async function ignoreConflict(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  }
}
