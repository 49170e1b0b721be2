import { describe, expect, it } from 'vitest';
import { assumedRolesOf, credentialIdentityOf, providerIdentityOf } from './provider-key.js';
import type { SecretStore } from './resources.js';

const A = 'arn:aws:iam::111111111111:role/a';
const B = 'arn:aws:iam::222222222222:role/b';

function store(aws: Partial<NonNullable<SecretStore['spec']['provider']['aws']>>): SecretStore {
  return { metadata: { name: 's', namespace: 'ns' }, spec: { provider: { aws: { service: 'SecretsManager', region: 'eu-west-1', ...aws } } } };
}

describe('role chains, as ESO assumes them', () => {
  it('assumes additionalRoles in order, then role', () => {
    expect(assumedRolesOf(store({ role: A, additionalRoles: [B] }).spec.provider.aws!)).toEqual([B, A]);
    expect(assumedRolesOf(store({ additionalRoles: [A, B] }).spec.provider.aws!)).toEqual([A, B]);
  });

  it("charges the account of the role assumed last: role's when set", () => {
    expect(providerIdentityOf(store({ role: A, additionalRoles: [B] }), 'SecretStore').account).toBe('111111111111');
    expect(providerIdentityOf(store({ additionalRoles: [A, B] }), 'SecretStore').account).toBe('222222222222');
    expect(providerIdentityOf(store({}), 'SecretStore').account).toBe('default');
  });

  it('tells the chains apart: role A with additionalRoles [B] (B then A), additionalRoles [A, B], and [B, A] (no external ID)', () => {
    const ids = [store({ role: A, additionalRoles: [B], externalID: 'x' }), store({ additionalRoles: [A, B], externalID: 'x' }), store({ additionalRoles: [B, A], externalID: 'x' })].map((s) =>
      credentialIdentityOf(s, 'SecretStore', 'ns'),
    );
    expect(new Set(ids).size).toBe(3);
  });

  it('takes auth.jwt before auth.secretRef, as ESO does', () => {
    const secretRef = { accessKeyIDSecretRef: { name: 'c', key: 'id' }, secretAccessKeySecretRef: { name: 'c', key: 'secret' } };
    const a = credentialIdentityOf(store({ auth: { secretRef, jwt: { serviceAccountRef: { name: 'sa-1' } } } }), 'SecretStore', 'ns');
    const b = credentialIdentityOf(store({ auth: { secretRef, jwt: { serviceAccountRef: { name: 'sa-2' } } } }), 'SecretStore', 'ns');
    expect(a).toMatch(/^jwt:ns\/sa-1/);
    expect(a).not.toBe(b);
  });
});
