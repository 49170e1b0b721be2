import { describe, expect, it } from 'vitest';
import type { V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { DATA_HASH_ANNOTATION, MANAGED_LABEL, parseExternalSecret, Reasons, type ExternalSecret } from '@herdless/core';
import {
  decideOwnership,
  desiredTarget,
  esoDataHash,
  fieldManagerOf,
  OWNER_LABEL,
  ownerLabelOf,
  planWrite,
  sameTarget,
  targetDrift,
  type TargetContent,
} from './target-secret.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function es(target: Record<string, unknown> = {}, status?: Record<string, unknown>): ExternalSecret {
  return parseExternalSecret({
    metadata: { name: 'app', namespace: 'team-a', uid: 'uid-app', generation: 1 },
    spec: { secretStoreRef: { name: 'aws' }, target, data: [{ secretKey: 'k', remoteRef: { key: 'r' } }] },
    ...(status ? { status } : {}),
  });
}

const content = (data: Record<string, string> = { password: b64('s3cret') }): TargetContent => ({
  type: 'Opaque',
  data,
  labels: {},
  annotations: {},
  immutable: undefined,
});

const ref = (kind: string, name: string, controller: boolean, apiVersion = 'external-secrets.io/v1', uid = `uid-${name}`): V1OwnerReference => ({
  apiVersion,
  kind,
  name,
  uid,
  controller,
});

/** The Secret as the API server returns it after this sync's create. */
function written(e: ExternalSecret, c = content()): V1Secret {
  const plan = planWrite(e, c, undefined);
  if (plan.kind !== 'create') throw new Error(`expected a create, found ${plan.kind}`);
  return { ...plan.secret, metadata: { ...plan.secret.metadata, uid: 'uid-secret', resourceVersion: '7' } };
}

describe('esoDataHash: ESO\'s esutils.ObjectHash of the data', () => {
  // Expected values computed with Go: fmt.Sprintf("%x", sha3.Sum224([]byte(fmt.Sprintf("%+v", m)))).
  it('hashes Go\'s "%+v" of map[string][]byte, keys in order, bytes in decimal', () => {
    expect(esoDataHash({ b: b64('12'), a: '', 'A-x.y': Buffer.from([0, 255]).toString('base64') })).toBe(
      '6c12a5b8265ec15249e0103b8f3c6d11bfdfbb20ada523f7e4295f4b',
    );
  });
  it('an empty Secret hashes as "map[]"', () => {
    expect(esoDataHash({})).toBe('74a974446e359fb3e6baff9bd0058950e6edd0f040888d9989b0a11b');
  });
  it('the created-by label is the hash of "namespace/name"', () => {
    const e = parseExternalSecret({ metadata: { name: 'name', namespace: 'ns' }, spec: {} });
    expect(ownerLabelOf(e)).toBe('bb23d4143f48a70026bb6cffbf0e5df5557eb3bc56885091e92a5690');
  });
  it('the field manager is ESO\'s, hashed when the name is long', () => {
    expect(fieldManagerOf(es())).toBe('externalsecrets.external-secrets.io/app');
    const long = parseExternalSecret({ metadata: { name: 'x'.repeat(40), namespace: 'ns' }, spec: {} });
    expect(fieldManagerOf(long)).toMatch(/^externalsecrets\.external-secrets\.io\/sha3\/[0-9a-f]{56}$/);
  });
});

describe('decideOwnership: who may write the target, per creationPolicy', () => {
  const policies = ['Owner', 'Orphan', 'Merge'] as const;

  it.each(policies)('%s refuses a Secret controlled by another ExternalSecret, naming it', (creationPolicy) => {
    const d = decideOwnership(es({ creationPolicy }), { ownerReferences: [ref('ExternalSecret', 'other', true)] });
    expect(d).toEqual({ kind: 'conflict', owner: { kind: 'ExternalSecret', name: 'other' } });
  });

  it.each(policies)('%s refuses a Secret controlled by another controller', (creationPolicy) => {
    const d = decideOwnership(es({ creationPolicy }), { ownerReferences: [ref('SealedSecret', 'sealed', true, 'bitnami.com/v1alpha1')] });
    expect(d).toEqual({ kind: 'conflict', owner: { kind: 'SealedSecret', name: 'sealed' } });
  });

  it('a same-named controller of another kind or group is not us', () => {
    expect(decideOwnership(es(), { ownerReferences: [ref('ExternalSecret', 'app', true, 'other.io/v1')] }).kind).toBe('conflict');
    expect(decideOwnership(es(), { ownerReferences: [ref('Deployment', 'app', true, 'apps/v1')] }).kind).toBe('conflict');
  });

  it('Owner sets its controller reference and keeps the others\' non-controller references', () => {
    const other = ref('ConfigMap', 'cm', false, 'v1');
    const d = decideOwnership(es(), { ownerReferences: [other] });
    expect(d).toEqual({
      kind: 'ok',
      ownerReferences: [other, { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', name: 'app', uid: 'uid-app', controller: true, blockOwnerDeletion: true }],
    });
  });

  it('Owner takes back a Secret of its recreated ExternalSecret (same name, old uid), as ESO does', () => {
    const d = decideOwnership(es(), { ownerReferences: [ref('ExternalSecret', 'app', true, 'external-secrets.io/v1', 'old-uid')] });
    expect(d.kind === 'ok' && d.ownerReferences.map((r) => r.uid)).toEqual(['uid-app']);
  });

  it.each(['Orphan', 'Merge'] as const)('%s removes our controller reference (Owner → %s), keeps the others', (creationPolicy) => {
    const other = ref('ConfigMap', 'cm', false, 'v1');
    const d = decideOwnership(es({ creationPolicy }), { ownerReferences: [ref('ExternalSecret', 'app', true), other] });
    expect(d).toEqual({ kind: 'ok', ownerReferences: [other] });
  });

  it('an unowned Secret: Owner takes it, Orphan and Merge leave it unowned', () => {
    expect(decideOwnership(es(), undefined)).toMatchObject({ kind: 'ok', ownerReferences: [{ name: 'app', controller: true }] });
    expect(decideOwnership(es({ creationPolicy: 'Orphan' }), {})).toEqual({ kind: 'ok', ownerReferences: [] });
    expect(decideOwnership(es({ creationPolicy: 'Merge' }), {})).toEqual({ kind: 'ok', ownerReferences: [] });
  });
});

describe('planWrite: compare what the Secret holds with what would be written', () => {
  it('creates with the data hash of the data, the managed and created-by labels and the owner reference', () => {
    const s = written(es());
    expect(s.data).toEqual({ password: b64('s3cret') });
    expect(s.metadata?.annotations?.[DATA_HASH_ANNOTATION]).toBe(esoDataHash({ password: b64('s3cret') }));
    expect(s.metadata?.labels).toEqual({ [MANAGED_LABEL]: 'true', [OWNER_LABEL]: ownerLabelOf(es()) });
    expect(s.metadata?.ownerReferences).toHaveLength(1);
  });

  it('the Secret as written is unchanged', () => {
    expect(planWrite(es(), content(), written(es()))).toEqual({ kind: 'unchanged' });
  });

  it('a hand edit of the data is a change, though the hash annotation still matches the provider\'s data', () => {
    const edited = written(es());
    edited.data = { password: b64('hand-edited') };
    const plan = planWrite(es(), content(), edited);
    expect(plan.kind).toBe('update');
    expect(plan.kind === 'update' && plan.secret.data).toEqual({ password: b64('s3cret') });
  });

  it('an extra key, a removed label, a removed owner reference or an edited hash annotation is a change', () => {
    const cases: Array<(s: V1Secret) => void> = [
      (s) => (s.data = { ...s.data, extra: b64('x') }),
      (s) => delete s.metadata!.labels![MANAGED_LABEL],
      (s) => delete s.metadata!.ownerReferences,
      (s) => (s.metadata!.annotations![DATA_HASH_ANNOTATION] = 'forged'),
    ];
    for (const edit of cases) {
      const s = written(es());
      edit(s);
      expect(planWrite(es(), content(), s).kind).toBe('update');
    }
  });

  it('another party\'s labels and annotations are kept, not a change', () => {
    const s = written(es());
    s.metadata!.labels = { ...s.metadata!.labels, team: 'a' };
    s.metadata!.annotations = { ...s.metadata!.annotations, note: 'kept' };
    expect(planWrite(es(), content(), s)).toEqual({ kind: 'unchanged' });
  });

  it('labels this ExternalSecret set before and no longer renders are removed (managedFields)', () => {
    const s = written(es(), { ...content(), labels: { tier: 'db' } });
    s.metadata!.managedFields = [{ manager: fieldManagerOf(es()), operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:tier': {} } } } }];
    const plan = planWrite(es(), content(), s);
    expect(plan.kind).toBe('update');
    expect(plan.kind === 'update' && plan.secret.metadata?.labels).toEqual({ [MANAGED_LABEL]: 'true', [OWNER_LABEL]: ownerLabelOf(es()) });
  });

  it('Owner → Orphan removes the controller reference and the created-by label, keeps the data', () => {
    const orphan = es({ creationPolicy: 'Orphan' });
    const plan = planWrite(orphan, content(), written(es()));
    expect(plan.kind).toBe('update');
    if (plan.kind !== 'update') return;
    expect(plan.secret.metadata?.ownerReferences).toBeUndefined();
    expect(plan.secret.metadata?.labels).toEqual({ [MANAGED_LABEL]: 'true' });
    expect(plan.secret.data).toEqual({ password: b64('s3cret') });
  });

  it('Orphan → Owner adds the controller reference to an unowned Secret', () => {
    const unowned = written(es({ creationPolicy: 'Orphan' }));
    const plan = planWrite(es(), content(), unowned);
    expect(plan.kind).toBe('update');
    expect(plan.kind === 'update' && plan.secret.metadata?.ownerReferences).toMatchObject([{ kind: 'ExternalSecret', name: 'app', controller: true }]);
  });

  it.each(['Owner', 'Orphan', 'Merge'] as const)('%s onto another ExternalSecret\'s Secret is a terminal TargetConflict naming only its kind and name', (creationPolicy) => {
    const other = written(es());
    other.metadata!.ownerReferences = [ref('ExternalSecret', 'other', true)];
    const error = (() => {
      try {
        planWrite(es({ creationPolicy }), content({ password: b64('mine') }), other);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ reason: Reasons.TargetConflict, retry: 'terminal' });
    expect((error as Error).message).toContain('ExternalSecret "other"');
    expect((error as Error).message).not.toContain('mine');
  });

  it('Merge never creates: no Secret is "missing"', () => {
    expect(planWrite(es({ creationPolicy: 'Merge' }), content(), undefined)).toEqual({ kind: 'missing' });
  });

  it('Merge keeps the other keys, replaces its own, and removes its keys the provider no longer has', () => {
    const merge = es({ creationPolicy: 'Merge' });
    const existing: V1Secret = {
      metadata: {
        name: 'app',
        namespace: 'team-a',
        resourceVersion: '3',
        managedFields: [{ manager: fieldManagerOf(merge), operation: 'Update', fieldsV1: { 'f:data': { 'f:gone': {}, 'f:password': {} } } }],
      },
      type: 'kubernetes.io/basic-auth',
      data: { theirs: b64('t'), gone: b64('g'), password: b64('old') },
    };
    const plan = planWrite(merge, content(), existing);
    expect(plan.kind).toBe('update');
    if (plan.kind !== 'update') return;
    expect(plan.secret.data).toEqual({ theirs: b64('t'), password: b64('s3cret') });
    expect(plan.secret.type).toBe('kubernetes.io/basic-auth');
    expect(plan.secret.metadata?.ownerReferences).toBeUndefined();
  });

  it('an immutable Secret whose data differs is a terminal ImmutableSecret; with the same data, metadata may still change', () => {
    const immutable = es({ immutable: true });
    const s = written(immutable, { ...content(), immutable: true });
    expect(s.immutable).toBe(true);
    expect(() => planWrite(immutable, content({ password: b64('rotated') }), s)).toThrowError(expect.objectContaining({ reason: Reasons.ImmutableSecret, retry: 'terminal' }));
    delete s.metadata!.labels![MANAGED_LABEL];
    expect(planWrite(immutable, content(), s).kind).toBe('update');
  });

  it('a type the template changes is terminal: a Secret\'s type cannot change', () => {
    const s = written(es());
    expect(() => planWrite(es({ template: { type: 'kubernetes.io/tls' } }), content(), s)).toThrowError(expect.objectContaining({ reason: Reasons.InvalidSpec, retry: 'terminal' }));
  });
});

describe('sameTarget', () => {
  it('owner references compare as a set; immutable false equals unset', () => {
    const a = desiredTarget(es(), content(), undefined, [ref('A', 'a', false), ref('B', 'b', false)]);
    const b = { ...a, metadata: { ...a.metadata, ownerReferences: [ref('B', 'b', false), ref('A', 'a', false)] }, immutable: false };
    expect(sameTarget(a, b)).toBe(true);
  });
});

describe('targetDrift: judged without the provider', () => {
  const synced = { conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced' }], syncedResourceVersion: '1' };

  it('the Secret as written is intact', () => {
    expect(targetDrift(es(), written(es()))).toBeUndefined();
  });

  it('deleted, data edited, managed label or owner reference removed: drifted', () => {
    expect(targetDrift(es(), undefined)).toBe('deleted');
    const edited = written(es());
    edited.data = { password: b64('hand') };
    expect(targetDrift(es(), edited)).toBe('data edited');
    const unlabelled = written(es());
    delete unlabelled.metadata!.labels![MANAGED_LABEL];
    expect(targetDrift(es(), unlabelled)).toBe('managed label removed');
    const unowned = written(es());
    delete unowned.metadata!.ownerReferences;
    expect(targetDrift(es(), unowned)).toBe('owner references edited');
  });

  it('Orphan (ESO: always valid) and None never drift; Merge and deletionPolicy Delete do not restore a deleted target', () => {
    expect(targetDrift(es({ creationPolicy: 'Orphan' }), undefined)).toBeUndefined();
    expect(targetDrift(es({ creationPolicy: 'None' }), undefined)).toBeUndefined();
    expect(targetDrift(es({ creationPolicy: 'Merge' }), undefined)).toBeUndefined();
    const deleted = es({}, { ...synced, conditions: [{ type: 'Ready', status: 'True', reason: 'SecretDeleted' }] });
    expect(targetDrift(deleted, undefined)).toBeUndefined();
  });
});
