// Reads the ConfigMaps and Secrets spec.target.template.templateFrom names, from the
// ExternalSecret's own namespace only (a tenant cannot render another namespace's objects).
// A missing source is retried with backoff: it may be created after the ExternalSecret.
import { isNotFound, Reasons, transient, type ExternalSecret, type KubeClients } from '@herdless/core';
import type { TemplateSources } from './eso-ops.js';

export async function readTemplateSources(kube: KubeClients, es: ExternalSecret): Promise<TemplateSources> {
  const namespace = es.metadata.namespace as string;
  const sources: TemplateSources = { configMaps: {}, secrets: {} };
  const from = es.spec.target.template?.templateFrom ?? [];
  for (const [i, entry] of from.entries()) {
    const configMap = entry.configMap?.name;
    if (configMap !== undefined && !(configMap in sources.configMaps)) {
      try {
        const cm = await kube.core.readNamespacedConfigMap({ namespace, name: configMap });
        sources.configMaps[configMap] = cm.data ?? {};
      } catch (e) {
        if (isNotFound(e)) throw transient(Reasons.SecretSyncedError, `spec.target.template.templateFrom[${i}].configMap: ConfigMap "${configMap}" not found in namespace "${namespace}"`);
        throw e;
      }
    }
    const secret = entry.secret?.name;
    if (secret !== undefined && !(secret in sources.secrets)) {
      try {
        const s = await kube.core.readNamespacedSecret({ namespace, name: secret });
        sources.secrets[secret] = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]));
      } catch (e) {
        if (isNotFound(e)) throw transient(Reasons.SecretSyncedError, `spec.target.template.templateFrom[${i}].secret: Secret "${secret}" not found in namespace "${namespace}"`);
        throw e;
      }
    }
  }
  return sources;
}
