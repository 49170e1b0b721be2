import { describe, expect, it } from 'vitest';
import { handlers, paginate } from './handlers.js';
import { SecretStore } from './secret-store.js';

function seeded(count: number): SecretStore {
  let t = 0;
  const store = new SecretStore('123456789012', () => ++t);
  for (let i = 0; i < count; i++) store.create({ name: `s${String(i).padStart(3, '0')}`, secretString: `v${i}` }, 'us-east-1');
  return store;
}

describe('handlers', () => {
  it('BatchGetSecretValue returns found values in order and one Errors entry per missing id', () => {
    const ctx = { store: seeded(3), region: 'us-east-1' };
    const { body, secrets } = handlers.BatchGetSecretValue({ SecretIdList: ['s002', 'nope', 's000'] }, ctx);
    expect(secrets).toBe(2);
    expect((body.SecretValues as { Name: string }[]).map((v) => v.Name)).toEqual(['s002', 's000']);
    expect(body.Errors).toEqual([
      { SecretId: 'nope', ErrorCode: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." },
    ]);
  });

  it('BatchGetSecretValue takes 20 ids at most, and ids or filters but not both', () => {
    const ctx = { store: seeded(1), region: 'us-east-1' };
    const ids = Array.from({ length: 21 }, (_, i) => `id${i}`);
    expect(() => handlers.BatchGetSecretValue({ SecretIdList: ids }, ctx)).toThrow(expect.objectContaining({ type: 'ValidationException' }));
    expect(() => handlers.BatchGetSecretValue({ SecretIdList: ['a'], Filters: [] }, ctx)).toThrow(
      expect.objectContaining({ type: 'InvalidParameterException' }),
    );
    expect(() => handlers.BatchGetSecretValue({}, ctx)).toThrow(expect.objectContaining({ type: 'InvalidParameterException' }));
  });

  it('ListSecrets pages through every secret exactly once', () => {
    const ctx = { store: seeded(25), region: 'us-east-1' };
    const names: string[] = [];
    let token: string | undefined;
    do {
      const { body } = handlers.ListSecrets({ MaxResults: 10, ...(token ? { NextToken: token } : {}) }, ctx);
      names.push(...(body.SecretList as { Name: string }[]).map((s) => s.Name));
      token = body.NextToken as string | undefined;
    } while (token);
    expect(names).toHaveLength(25);
    expect(new Set(names).size).toBe(25);
  });

  it('GetSecretValue without SecretId is a ValidationException', () => {
    expect(() => handlers.GetSecretValue({}, { store: seeded(0), region: 'us-east-1' })).toThrow(
      expect.objectContaining({ type: 'ValidationException' }),
    );
  });

  it('paginate rejects a token it did not issue', () => {
    expect(() => paginate([1, 2, 3], 2, 'garbage')).toThrow(expect.objectContaining({ type: 'InvalidNextTokenException' }));
    const first = paginate([1, 2, 3], 2, undefined);
    expect(first.page).toEqual([1, 2]);
    expect(paginate([1, 2, 3], 2, first.nextToken)).toEqual({ page: [3] });
  });
});
