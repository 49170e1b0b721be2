import { describe, expect, it } from 'vitest';
import { isHerdlessError, parseExternalSecret } from '@herdless/core';
import { renderSecret, renderTemplateString } from './render-secret.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function es(target: Record<string, unknown> = {}) {
  return parseExternalSecret({
    metadata: { name: 'app', namespace: 'team-a' },
    spec: { secretStoreRef: { name: 's' }, target },
  });
}

describe('renderSecret', () => {
  it('puts fetched keys base64-encoded into an Opaque secret', () => {
    const out = renderSecret(es(), { password: bytes('hunter2'), user: bytes('admin') });
    expect(out.type).toBe('Opaque');
    expect(out.data).toEqual({ password: b64('hunter2'), user: b64('admin') });
  });

  it('a template with data replaces the fetched keys', () => {
    const out = renderSecret(es({ template: { data: { dsn: 'postgres://{{ .user }}:{{ .password }}@db' } } }), {
      password: bytes('p'),
      user: bytes('u'),
    });
    expect(out.data).toEqual({ dsn: b64('postgres://u:p@db') });
  });

  it('mergePolicy Merge keeps the fetched keys beside the rendered ones', () => {
    const out = renderSecret(es({ template: { mergePolicy: 'Merge', data: { both: '{{.a}}-{{ index . "b" }}' } } }), {
      a: bytes('1'),
      b: bytes('2'),
    });
    expect(out.data).toEqual({ a: b64('1'), b: b64('2'), both: b64('1-2') });
  });

  it('a template naming an unknown key is a terminal TemplateError that names the key, not a value', () => {
    try {
      renderSecret(es({ template: { data: { x: '{{ .nope }}' } } }), { secretvalue: bytes('s3cr3t') });
      expect.unreachable();
    } catch (e) {
      expect(isHerdlessError(e) && e.reason).toBe('TemplateError');
      expect(isHerdlessError(e) && e.retry).toBe('terminal');
      expect((e as Error).message).toContain('"nope"');
      expect((e as Error).message).not.toContain('s3cr3t');
    }
  });

  it('the hash changes with content and only with content', () => {
    const a = renderSecret(es(), { k: bytes('v1') });
    const b = renderSecret(es(), { k: bytes('v1') });
    const c = renderSecret(es(), { k: bytes('v2') });
    expect(a.hash).toBe(b.hash);
    expect(a.hash).not.toBe(c.hash);
  });

  it('rejects keys a Secret cannot hold', () => {
    expect(() => renderSecret(es(), { 'a/b': bytes('v') })).toThrow(/not a valid Secret key/);
  });

  it.each([
    ['"."', '.'],
    ['".."', '..'],
    ['"..data"', '..data'],
    ['of 254 characters', 'k'.repeat(254)],
    ['with a space', 'a b'],
  ])('a target key %s (the API server refuses it) is a terminal InvalidSecretKey', (_, key) => {
    for (const spec of [es(), es({ template: { data: { [key]: 'x' } } })]) {
      const e = (() => {
        try {
          renderSecret(spec, { [key]: bytes('v') });
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(e).toMatchObject({ reason: 'InvalidSecretKey', retry: 'terminal' });
    }
  });

  it('accepts a 253-character key', () => {
    expect(Object.keys(renderSecret(es(), { ['k'.repeat(253)]: bytes('v') }).data)).toEqual(['k'.repeat(253)]);
  });

  it('a Secret over 1 MiB is a terminal SecretTooLarge that says its size, and no value', () => {
    const big = { a: new Uint8Array(600 * 1024).fill(0x78), b: new Uint8Array(600 * 1024).fill(0x79) };
    expect(() => renderSecret(es(), big)).toThrow(expect.objectContaining({ reason: 'SecretTooLarge', retry: 'terminal', message: expect.stringMatching(/1228802 bytes .*1048576/) }));
    expect(() => renderSecret(es(), big)).not.toThrow(/xxxx/);
    // Just under the limit, keys counted: what the API server accepts still renders.
    expect(() => renderSecret(es(), { a: new Uint8Array(1024 * 1024 - 1) })).not.toThrow();
  });

  it('renders a template of 40,000 "{{" without a "}}" as text', () => {
    const text = '{{'.repeat(40_000);
    expect(renderSecret(es({ template: { data: { k: text } } }), {}).data).toEqual({ k: b64(text) });
  });

  it('rejects expressions beyond placeholders', () => {
    expect(() => renderTemplateString('{{ .a | upper }}', { a: bytes('x') }, 'k')).toThrow(/expected a placeholder/);
  });
});
