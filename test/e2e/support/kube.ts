// Small helpers for end-to-end tests that talk to the real API server as admin.
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS, mergePatch } from '@herdless/core';
import { waitUntil } from '../../support/index.js';

export function adminClients(kubeconfigPath: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return { kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}
export type AdminClients = ReturnType<typeof adminClients>;

const es = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ExternalSecret };

export async function createExternalSecret(c: AdminClients, namespace: string, name: string, spec: Record<string, unknown>) {
  return c.custom.createNamespacedCustomObject({
    ...es,
    namespace,
    body: { apiVersion: `${EXTERNAL_SECRETS_GROUP}/v1`, kind: 'ExternalSecret', metadata: { name, namespace }, spec },
  });
}

export async function patchExternalSecretSpec(c: AdminClients, namespace: string, name: string, spec: Record<string, unknown>) {
  return c.custom.patchNamespacedCustomObject({ ...es, namespace, name, body: { spec } }, mergePatch);
}

export async function deleteExternalSecret(c: AdminClients, namespace: string, name: string) {
  return c.custom.deleteNamespacedCustomObject({ ...es, namespace, name, propagationPolicy: 'Background' });
}

export interface EsSummary {
  name: string;
  ready?: string;
  reason?: string;
  message?: string;
  refreshTime?: string;
}

export async function listExternalSecrets(c: AdminClients, namespace: string): Promise<EsSummary[]> {
  const list = (await c.custom.listNamespacedCustomObject({ ...es, namespace })) as {
    items: Array<{ metadata: { name: string }; status?: { refreshTime?: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } }>;
  };
  return list.items.map((i) => {
    const ready = i.status?.conditions?.find((c) => c.type === 'Ready');
    return {
      name: i.metadata.name,
      ...(ready ? { ready: ready.status, reason: ready.reason, message: ready.message } : {}),
      ...(i.status?.refreshTime ? { refreshTime: i.status.refreshTime } : {}),
    } as EsSummary;
  });
}

export async function createStore(
  c: AdminClients,
  kind: 'SecretStore' | 'ClusterSecretStore',
  name: string,
  namespace: string | undefined,
  spec: Record<string, unknown>,
) {
  const body = { apiVersion: `${EXTERNAL_SECRETS_GROUP}/v1`, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec };
  const base = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS[kind] };
  return namespace
    ? c.custom.createNamespacedCustomObject({ ...base, namespace, body })
    : c.custom.createClusterCustomObject({ ...base, body });
}

/** The suite's waitUntil with a fixed description (older call sites); new tests call waitUntil. */
export function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 250): Promise<T> {
  return waitUntil(check, timeoutMs, () => `waiting for ${what}`, intervalMs);
}
