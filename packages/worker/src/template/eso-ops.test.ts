import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataFrom } from '@herdless/core';
import type { TemplateEngine } from './engine.js';
import { decodeValue, shapeDataFrom, type SecretBytes } from './eso-ops.js';
import { loadTestEngine } from './test-engine.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s));
const text = (data: SecretBytes) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString()]));
const map = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, bytes(v)]));

let engine: TemplateEngine;
beforeAll(async () => {
  engine = await loadTestEngine();
});
afterAll(() => engine?.close());

const decode = async (strategy: string, value: string) => Buffer.from(await decodeValue(engine, strategy, bytes(value), 0)).toString();

// ESO v0.20.4 esutils.Decode: Go's encoding/base64, strict about padding, lenient about newlines.
describe('decodingStrategy, as ESO decodes', () => {
  it.each([
    ['Base64', 'aGVsbG8=', 'hello'],
    ['Base64', 'aGVs\nbG8=', 'hello'],
    ['Base64URL', 'Pz8_', '???'],
    ['Auto', 'aGVsbG8=', 'hello'],
    ['Auto', 'Pz8_', '???'],
    // Neither encoding (no padding): Auto keeps the value as it came.
    ['Auto', 'aGVsbG8', 'aGVsbG8'],
    ['None', 'aGVsbG8=', 'aGVsbG8='],
  ])('%s of %j is %j', async (strategy, value, expected) => {
    expect(await decode(strategy, value)).toBe(expected);
  });

  it.each([
    ['Base64', 'aGVsbG8'],
    ['Base64', 'Pz8_'],
    ['Base64URL', 'Pz8/'],
  ])('%s of %j fails with Go\'s reason, naming the field and no value', async (strategy, value) => {
    const e = await decode(strategy, value).catch((error: unknown) => error);
    expect(e).toMatchObject({ reason: 'InvalidSpec', message: expect.stringMatching(/^spec\.data\[0\]\.remoteRef\.decodingStrategy: .*illegal base64 data at input byte/) });
    expect((e as Error).message).not.toContain(value);
  });
});

describe('dataFrom: rewrite, conversionStrategy, key check, decodingStrategy in ESO order', () => {
  const shape = (entry: DataFrom, data: Record<string, string>) => shapeDataFrom(engine, entry, 0, map(data)).then(text);

  it('conversionStrategy Default and Unicode turn remote names into Secret keys', async () => {
    expect(await shape({ find: { name: { regexp: '.' } } }, { 'db/password': 'p', 'a b': 'q' })).toEqual({ db_password: 'p', a_b: 'q' });
    expect(await shape({ find: { conversionStrategy: 'Unicode' } }, { 'db/password': 'p' })).toEqual({ db_U002f_password: 'p' });
  });

  it('two names converting to one key fail as in ESO', async () => {
    await expect(shape({ extract: { key: 'k' } }, { 'a/b': '1', 'a_b': '2' })).rejects.toMatchObject({ message: expect.stringContaining('secret name collision during conversion') });
  });

  it('decodes every value after the keys are settled', async () => {
    expect(await shape({ extract: { key: 'k', decodingStrategy: 'Base64' } }, { user: 'YWRtaW4=' })).toEqual({ user: 'admin' });
  });

  it('rewrite regexp uses Go\'s replacement syntax ("$1_x" is the group named "1_x"), then skips conversion', async () => {
    const rewrite = (target: string) => ({ extract: { key: 'k' }, rewrite: [{ regexp: { source: '^db-(.*)$', target } }] });
    expect(await shape(rewrite('app-$1'), { 'db-user': 'u' })).toEqual({ 'app-user': 'u' });
    expect(await shape(rewrite('${1}_x'), { 'db-user': 'u' })).toEqual({ user_x: 'u' });
    // An empty key is dropped by ESO's key check.
    expect(await shape(rewrite('$1_x'), { 'db-user': 'u' })).toEqual({});
  });

  it('rewrite operations run in order, transform through the template engine', async () => {
    const entry = { find: { path: 'x' }, rewrite: [{ regexp: { source: '/', target: '-' } }, { transform: { template: '{{ .value | upper }}' } }] };
    expect(await shape(entry, { 'a/b': '1' })).toEqual({ 'A-B': '1' });
  });

  it('a rewrite leaving a key a Secret cannot hold is an InvalidSecretKey', async () => {
    await expect(shape({ extract: { key: 'k' }, rewrite: [{ regexp: { source: 'x', target: '/' } }] }, { x: '1' })).rejects.toMatchObject({ reason: 'InvalidSecretKey' });
  });

  it('a rewrite regexp Go cannot compile fails with its reason', async () => {
    await expect(shape({ extract: { key: 'k' }, rewrite: [{ regexp: { source: '(?<=a)', target: '' } }] }, { a: '1' })).rejects.toMatchObject({
      reason: 'InvalidSpec',
      message: expect.stringContaining('error applying rewrite to keys'),
    });
  });
});
