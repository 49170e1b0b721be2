// Kubernetes helpers for integration and end-to-end tests on the shared control plane:
// admin clients from the injected kubeconfig, a unique namespace per test, and the control
// plane handle that @herdless/lab's createServiceAccountKubeconfig needs.
import { randomBytes } from 'node:crypto';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { injected } from './provided-context.js';

/** A fresh admin KubeConfig for the run's control plane. */
export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(injected('kubeconfigPath'));
  return kc;
}

/** What createServiceAccountKubeconfig(cp, …) needs, rebuilt from the injected values. */
export function controlPlaneAccess() {
  return {
    kubeConfig: adminKubeConfig,
    server: injected('controlPlaneServer'),
    caPem: injected('controlPlaneCaPem'),
    dir: injected('controlPlaneDir'),
  };
}

/** `<prefix>-<6 hex>`: a valid, unique namespace name (RFC 1123 label, at most 63 chars). */
export function uniqueNamespace(prefix = 'test'): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'test';
  return `${clean}-${randomBytes(3).toString('hex')}`;
}

export async function createNamespace(kc: KubeConfig, name: string, labels: Record<string, string> = {}): Promise<string> {
  await kc.makeApiClient(CoreV1Api).createNamespace({
    body: { metadata: { name, labels: { 'herdless.io/test': 'true', ...labels } } },
  });
  return name;
}

/** Starts the deletion (the namespace controller finishes it); a missing namespace is fine. */
export async function deleteNamespace(kc: KubeConfig, name: string): Promise<void> {
  try {
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name });
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 404)) throw error;
  }
}

/** A unique namespace created before the suite's tests and deleted after them; call inside describe. */
export function suiteNamespace(prefix: string): string {
  const name = uniqueNamespace(prefix);
  beforeAll(async () => {
    await createNamespace(adminKubeConfig(), name);
  });
  afterAll(async () => {
    await deleteNamespace(adminKubeConfig(), name);
  });
  return name;
}
