import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderKubeconfig } from './kubeconfig.js';

it('a kubeconfig trusts the CA by value and never skips TLS verification', () => {
  const text = renderKubeconfig({
    name: 'lab',
    server: 'https://127.0.0.1:6443',
    caPem: 'CA PEM',
    credential: { token: 'tok' },
    namespace: 'team-a',
  });
  expect(text).not.toContain('insecure-skip-tls-verify');
  const doc = parse(text);
  expect(Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe('CA PEM');
  expect(doc.users[0].user).toEqual({ token: 'tok' });
  expect(doc.contexts[0].context).toEqual({ cluster: 'lab', user: 'lab', namespace: 'team-a' });
  expect(doc['current-context']).toBe('lab');
});
