import { describe, expect, it } from 'vitest';
import { ALREADY_EXISTS, desiredExternalSecret, isOwnedBy, needsWrite, NAMESPACES_FAILED, selectNamespaces, statusOf, type NamespaceView, type RawObject } from './provisioning-plan.js';

const ces = (spec: Record<string, unknown>, annotations?: Record<string, string>): RawObject => ({
  metadata: { name: 'shared', uid: 'ces-uid', ...(annotations ? { annotations } : {}) },
  spec: { externalSecretSpec: { secretStoreRef: { name: 'aws', kind: 'ClusterSecretStore' }, data: [] }, ...spec },
});
const ns = (name: string, labels: Record<string, string> = {}, deleting = false): NamespaceView => ({ name, labels, deleting });
const all = [ns('a', { team: 'x' }), ns('b', { team: 'y' }), ns('c'), ns('d', { team: 'x' }, true)];
const names = (r: ReturnType<typeof selectNamespaces>) => ('chosen' in r ? r.chosen.map((n) => n.name) : r);

describe('ClusterExternalSecret provisioning (ESO v0.20.4 semantics)', () => {
  it('chooses the named namespaces that exist and every selector match, ORed, once each', () => {
    expect(names(selectNamespaces(ces({ namespaces: ['c', 'missing'] }), all))).toEqual(['c']);
    expect(names(selectNamespaces(ces({ namespaceSelectors: [{ matchLabels: { team: 'x' } }] }), all))).toEqual(['a', 'd']);
    expect(names(selectNamespaces(ces({ namespaces: ['a'], namespaceSelector: { matchLabels: { team: 'y' } }, namespaceSelectors: [{ matchLabels: { team: 'x' } }] }), all))).toEqual([
      'a',
      'b',
      'd',
    ]);
    expect(names(selectNamespaces(ces({ namespaceSelectors: [{ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }] }), all))).toEqual(['c']);
    expect(names(selectNamespaces(ces({ namespaceSelectors: [{}] }), all))).toEqual(['a', 'b', 'c', 'd']);
    expect(names(selectNamespaces(ces({}), all))).toEqual([]);
  });

  it('says why a selector is invalid instead of choosing anything', () => {
    const r = selectNamespaces(ces({ namespaceSelectors: [{ matchExpressions: [{ key: 'team', operator: 'In' }] }] }), all);
    expect(r).toEqual({ error: expect.stringContaining("values set can't be empty") });
  });

  it('writes the spec verbatim with the metadata, the force-sync annotation and a controller reference, keeping other owners', () => {
    const existing: RawObject = { metadata: { name: 'shared', namespace: 'a', resourceVersion: '7', labels: { stale: '1' }, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', uid: 'u' }] } };
    const desired = desiredExternalSecret(
      ces({ externalSecretName: 'named', externalSecretMetadata: { labels: { app: 'x' }, annotations: { note: 'y' } } }, { 'external-secrets.io/force-sync': '123' }),
      'a',
      existing,
    );
    expect(desired.metadata).toMatchObject({
      name: 'named',
      namespace: 'a',
      resourceVersion: '7',
      labels: { app: 'x' },
      annotations: { note: 'y', 'external-secrets.io/force-sync': '123' },
    });
    expect(desired.metadata?.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', uid: 'u' },
      { apiVersion: 'external-secrets.io/v1', kind: 'ClusterExternalSecret', name: 'shared', uid: 'ces-uid', controller: true, blockOwnerDeletion: true },
    ]);
    expect(desired.spec).toEqual({ secretStoreRef: { name: 'aws', kind: 'ClusterSecretStore' }, data: [] });
    expect(isOwnedBy(desired, 'shared')).toBe(true);
    expect(isOwnedBy(existing, 'shared')).toBe(false);
    expect(needsWrite(existing, desired)).toBe(true);
    expect(needsWrite({ ...desired, spec: { data: [], secretStoreRef: { kind: 'ClusterSecretStore', name: 'aws' } } }, desired)).toBe(false);
  });

  it("has ESO's status: sorted lists, Ready True, or False with ESO's message", () => {
    expect(statusOf('shared', ['b', 'a'], new Map())).toEqual({ externalSecretName: 'shared', provisionedNamespaces: ['a', 'b'], conditions: [{ type: 'Ready', status: 'True' }] });
    expect(statusOf('shared', [], new Map([['z', ALREADY_EXISTS], ['c', 'x']]))).toEqual({
      externalSecretName: 'shared',
      failedNamespaces: [
        { namespace: 'c', reason: 'x' },
        { namespace: 'z', reason: ALREADY_EXISTS },
      ],
      conditions: [{ type: 'Ready', status: 'False', message: NAMESPACES_FAILED }],
    });
  });
});
