import { expect, it } from 'vitest';
import { leafExtensions, subject } from './pki.js';

it('a client certificate carries its groups as O= and is for client auth only', () => {
  expect(subject({ commonName: 'herdless-admin', organizations: ['system:masters'] })).toBe('/O=system:masters/CN=herdless-admin');
  const ext = leafExtensions({ name: 'admin', commonName: 'x', usage: 'client' });
  expect(ext).toContain('extendedKeyUsage = clientAuth');
  expect(ext.some((l) => l.startsWith('subjectAltName'))).toBe(false);
});

it('a serving certificate names 127.0.0.1 and localhost', () => {
  const ext = leafExtensions({ name: 'apiserver', commonName: 'kube-apiserver', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  expect(ext).toContain('subjectAltName = DNS:localhost, IP:127.0.0.1');
  expect(ext).toContain('basicConstraints = critical, CA:FALSE');
});

it('escapes slashes in distinguished names', () => {
  expect(subject({ commonName: 'a/b' })).toBe('/CN=a\\/b');
});
