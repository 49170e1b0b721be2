// Kubeconfig files for the local control plane. Every one trusts the run's CA by value
// (certificate-authority-data): never insecure-skip-tls-verify, so clients verify the server
// exactly as they would in a real cluster.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export type KubeconfigCredential =
  | { clientCertificatePem: string; clientKeyPem: string }
  | { token: string };

export interface KubeconfigSpec {
  /** Context, cluster and user name. */
  name: string;
  server: string;
  caPem: string;
  credential: KubeconfigCredential;
  /** Default namespace of the context. */
  namespace?: string;
}

export function renderKubeconfig(spec: KubeconfigSpec): string {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const user =
    'token' in spec.credential
      ? { token: spec.credential.token }
      : {
          'client-certificate-data': b64(spec.credential.clientCertificatePem),
          'client-key-data': b64(spec.credential.clientKeyPem),
        };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: spec.name, cluster: { server: spec.server, 'certificate-authority-data': b64(spec.caPem) } }],
    users: [{ name: spec.name, user }],
    contexts: [
      {
        name: spec.name,
        context: { cluster: spec.name, user: spec.name, ...(spec.namespace ? { namespace: spec.namespace } : {}) },
      },
    ],
    'current-context': spec.name,
    preferences: {},
  });
}

export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<string> {
  // 0600: the file holds a credential.
  await writeFile(path, renderKubeconfig(spec), { mode: 0o600 });
  return path;
}
