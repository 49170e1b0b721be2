// Installs CustomResourceDefinitions and waits until the API server serves them: first the
// condition Established=True (before it, creating an ExternalSecret answers 404), then a list of
// every served version answering 200. Established comes before the resource's storage and watch
// cache are ready; in that gap a list answers 429 "storage is (re)initializing".
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
  await Promise.all(manifests.flatMap((m) => listPaths(m as V1CustomResourceDefinition)).map((path) => waitUntilListed(kc, path, timeoutMs)));
}

/** One cluster-wide list path per served version: `/apis/<group>/<version>/<plural>?limit=1`. */
function listPaths(crd: V1CustomResourceDefinition): string[] {
  const { group, names, versions } = crd.spec;
  return versions.filter((v) => v.served).map((v) => `/apis/${group}/${v.name}/${names.plural}?limit=1`);
}

async function waitUntilListed(kc: KubeConfig, path: string, timeoutMs: number): Promise<void> {
  let last = 0;
  await waitUntil(
    async () => {
      last = (await rawJsonRequest(kc, 'GET', path)).status;
      return last === 200 ? true : undefined;
    },
    { what: `${path} to list`, timeoutMs, intervalMs: 50 },
  ).catch((cause: unknown) => {
    throw new LabError('CrdNotServed', `${path} did not list within ${timeoutMs} ms (last HTTP ${last})`, { cause });
  });
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
