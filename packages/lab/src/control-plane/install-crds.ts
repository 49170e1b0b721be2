// Installs CustomResourceDefinitions and waits until the API server serves them
// (condition Established=True): before that, creating an ExternalSecret answers 404.
import { ApiextensionsV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { LabError } from '../lab-error.js';
import { waitUntil } from '../wait-until.js';
import { rawJsonRequest } from './raw-request.js';

export async function installCrds(kc: KubeConfig, manifests: object[], timeoutMs = 30_000): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  await Promise.all(manifests.map((m) => applyCrd(kc, m as V1CustomResourceDefinition)));
  await Promise.all(
    manifests.map((m) => {
      const name = (m as V1CustomResourceDefinition).metadata?.name ?? '';
      return waitUntil(
        async () => {
          const crd = await api.readCustomResourceDefinition({ name });
          const established = crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
          return established ? true : undefined;
        },
        { what: `CRD ${name} to be Established`, timeoutMs, intervalMs: 50 },
      ).catch((cause: unknown) => {
        throw new LabError('CrdNotEstablished', `CRD ${name} was not Established within ${timeoutMs} ms`, { cause });
      });
    }),
  );
}

async function applyCrd(kc: KubeConfig, body: V1CustomResourceDefinition): Promise<void> {
  const base = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  const name = body.metadata?.name ?? '';
  const created = await rawJsonRequest(kc, 'POST', base, body);
  if (created.status === 201 || created.status === 200) return;
  if (created.status !== 409) throw new LabError('CrdNotInstalled', `creating CRD ${name}: HTTP ${created.status} ${JSON.stringify(created.body).slice(0, 500)}`);
  // Already there (a reused run dir): replace it with this version of the manifest.
  const current = await rawJsonRequest(kc, 'GET', `${base}/${name}`);
  const resourceVersion = (current.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
  const replaced = await rawJsonRequest(kc, 'PUT', `${base}/${name}`, { ...body, metadata: { ...body.metadata, resourceVersion } });
  if (replaced.status !== 200) throw new LabError('CrdNotInstalled', `replacing CRD ${name}: HTTP ${replaced.status} ${JSON.stringify(replaced.body).slice(0, 500)}`);
}
