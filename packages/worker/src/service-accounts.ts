// What auth.jwt needs of Kubernetes (ESO's credsFromServiceAccount and token fetcher): the
// ServiceAccount's annotations (the IAM role it is associated with) and a token for it from the
// TokenRequest API. The token goes straight to STS; it is never cached, logged or written.
import { isNotFound, Reasons, terminal, transient, type KubeClients } from '@herdless/core';
import type { ServiceAccountTokenRequest } from '@herdless/providers';

export async function readServiceAccountAnnotations(kube: KubeClients, ref: { namespace: string; name: string }): Promise<Record<string, string>> {
  try {
    const sa = await kube.core.readNamespacedServiceAccount({ namespace: ref.namespace, name: ref.name });
    return sa.metadata?.annotations ?? {};
  } catch (e) {
    if (isNotFound(e)) throw terminal(Reasons.InvalidSpec, `ServiceAccount "${ref.name}" of the store's auth.jwt not found`);
    throw e;
  }
}

export async function requestServiceAccountToken(kube: KubeClients, request: ServiceAccountTokenRequest): Promise<string> {
  try {
    const response = await kube.core.createNamespacedServiceAccountToken({
      namespace: request.namespace,
      name: request.name,
      body: { spec: { audiences: request.audiences, expirationSeconds: request.expirationSeconds } },
    });
    const token = response.status?.token;
    if (!token) throw transient(Reasons.ProviderError, `TokenRequest for ServiceAccount "${request.name}" answered without a token`);
    return token;
  } catch (e) {
    if (isNotFound(e)) throw terminal(Reasons.InvalidSpec, `ServiceAccount "${request.name}" of the store's auth.jwt not found`);
    throw e;
  }
}
