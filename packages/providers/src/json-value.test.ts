import { Reasons } from '@herdless/core';
import { describe, expect, it } from 'vitest';
import { extractProperty, goJsonOfStringMap, secretMapOf } from './json-value.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const prop = (json: string, p: string) => dec(extractProperty(enc(json), p, 'k'));

describe('extractProperty (ESO gjson semantics for simple paths)', () => {
  it('reads top-level and dotted properties', () => {
    const v = '{"user":"admin","db":{"host":"h","port":5432},"list":["a","b"]}';
    expect(prop(v, 'user')).toBe('admin');
    expect(prop(v, 'db.host')).toBe('h');
    expect(prop(v, 'db.port')).toBe('5432');
    expect(prop(v, 'list.1')).toBe('b');
  });

  it('prefers a literal key with dots over the nested path', () => {
    expect(prop('{"a.b":"literal","a":{"b":"nested"}}', 'a.b')).toBe('literal');
    expect(prop('{"a":{"b":"nested"}}', 'a.b')).toBe('nested');
  });

  it('returns nested objects and numbers as their raw JSON text', () => {
    expect(prop('{"o": {"x": 1,  "y": [1, 2]}}', 'o')).toBe('{"x": 1,  "y": [1, 2]}');
    expect(prop('{"n": 12345678901234567890}', 'n')).toBe('12345678901234567890');
    expect(prop('{"f": 1.50}', 'f')).toBe('1.5');
    expect(prop('{"t": true, "z": null}', 't')).toBe('true');
    expect(prop('{"t": true, "z": null}', 'z')).toBe('');
  });

  it('a missing property is terminal RemotePropertyNotFound naming property and key, not the value', () => {
    try {
      extractProperty(enc('{"password":"hunter2"}'), 'user', 'team/db');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ reason: Reasons.RemotePropertyNotFound, retry: 'terminal' });
      expect((e as Error).message).toContain('"user"');
      expect((e as Error).message).toContain('"team/db"');
      expect((e as Error).message).not.toContain('hunter2');
    }
  });

  it('a value that is not JSON is terminal and does not quote it', () => {
    expect(() => extractProperty(enc('hunter2'), 'user', 'k')).toThrow(/not JSON/);
    try {
      extractProperty(enc('hunter2'), 'user', 'k');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });
});

describe('secretMapOf (dataFrom.extract)', () => {
  it('decodes strings and keeps other values as raw JSON, like ESO', () => {
    const m = secretMapOf(enc('{"a":"x","n":1,"o":{"k":"v"},"b":false,"z":null}'), 'k');
    expect(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, dec(v)]))).toEqual({
      a: 'x',
      n: '1',
      o: '{"k":"v"}',
      b: 'false',
      z: 'null',
    });
  });

  it('a JSON array is terminal', () => {
    expect(() => secretMapOf(enc('[1]'), 'k')).toThrow(/JSON object/);
  });
});

describe("goJsonOfStringMap (Go's json.Marshal of a map[string]string, as ESO writes tags)", () => {
  it('sorts keys by UTF-8 bytes, escapes as Go does (HTML-safe, \\b \\f, U+2028), the last of a repeated key wins', () => {
    const json = goJsonOfStringMap([
      ['\u{1F600}', 'emoji'],
      ['\uFF21', 'fullwidth'],
      ['b', 'x<y>&z "q" \\ \n\t\b\f\u0001\u2028'],
      ['a', 'first'],
      ['a', 'last'],
    ]);
    // JavaScript's sort would put U+1F600 (a surrogate pair, 0xD83D…) before U+FF21; Go's bytes do not.
    expect(json).toBe('{"a":"last","b":"x\\u003cy\\u003e\\u0026z \\"q\\" \\\\ \\n\\t\\b\\f\\u0001\\u2028","\uFF21":"fullwidth","\u{1F600}":"emoji"}');
    expect(goJsonOfStringMap([])).toBe('{}');
  });
});
