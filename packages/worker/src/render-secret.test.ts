import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExternalSecret } from '@herdless/core';
import { renderSecret } from './render-secret.js';
import type { TemplateEngine } from './template/engine.js';
import { loadTestEngine } from './template/test-engine.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function es(target: Record<string, unknown> = {}) {
  return parseExternalSecret({
    metadata: { name: 'app', namespace: 'team-a' },
    spec: { secretStoreRef: { name: 's' }, target },
  });
}

let engine: TemplateEngine;
beforeAll(async () => {
  engine = await loadTestEngine();
});
afterAll(() => engine?.close());

const render = (target: Record<string, unknown>, data: Record<string, Uint8Array>) => renderSecret(es(target), data, engine);

describe('renderSecret', () => {
  it('puts fetched keys base64-encoded into an Opaque secret', async () => {
    const out = await render({}, { password: bytes('hunter2'), user: bytes('admin') });
    expect(out.type).toBe('Opaque');
    expect(out.data).toEqual({ password: b64('hunter2'), user: b64('admin') });
  });

  it("without a template the ExternalSecret's own labels and annotations go to the Secret, as in ESO; with one, only the template's", async () => {
    const meta = { labels: { team: 'a' }, annotations: { note: 'x' } };
    const plain = parseExternalSecret({ metadata: { name: 'app', namespace: 'team-a', ...meta }, spec: { secretStoreRef: { name: 's' }, target: {} } });
    expect(await renderSecret(plain, { k: bytes('v') }, engine)).toMatchObject({ labels: { team: 'a' }, annotations: { note: 'x' } });
    const templated = parseExternalSecret({
      metadata: { name: 'app', namespace: 'team-a', ...meta },
      spec: { secretStoreRef: { name: 's' }, target: { template: { metadata: { labels: { from: 'template' } } } } },
    });
    const out = await renderSecret(templated, { k: bytes('v') }, engine);
    expect(out.labels).toEqual({ from: 'template' });
    expect(out.annotations).toEqual({});
  });

  it('a template with data replaces the fetched keys', async () => {
    const out = await render({ template: { data: { dsn: 'postgres://{{ .user }}:{{ .password | upper }}@db' } } }, { password: bytes('p'), user: bytes('u') });
    expect(out.data).toEqual({ dsn: b64('postgres://u:P@db') });
  });

  it('mergePolicy Merge keeps the fetched keys beside the rendered ones', async () => {
    const out = await render({ template: { mergePolicy: 'Merge', data: { both: '{{.a}}-{{ index . "b" }}' } } }, { a: bytes('1'), b: bytes('2') });
    expect(out.data).toEqual({ a: b64('1'), b: b64('2'), both: b64('1-2') });
  });

  it('templated labels, annotations and type reach the rendered Secret', async () => {
    const out = await render({ template: { type: 'kubernetes.io/tls', metadata: { labels: { app: '{{ .name }}' }, annotations: { a: 'x' } }, data: { k: '{{ .name }}' } } }, { name: bytes('web') });
    expect(out).toMatchObject({ type: 'kubernetes.io/tls', labels: { app: 'web' }, annotations: { a: 'x' } });
  });

  it('a template naming an unknown key is a terminal TemplateError that names the key, not a value', async () => {
    const e = await render({ template: { data: { x: '{{ .nope }}' } } }, { secretvalue: bytes('s3cr3t') }).catch((error: unknown) => error);
    expect(e).toMatchObject({ reason: 'TemplateError', retry: 'terminal', message: expect.stringContaining('nope') });
    expect((e as Error).message).not.toContain('s3cr3t');
  });

  it('the hash changes with content and only with content', async () => {
    const a = await render({}, { k: bytes('v1') });
    const b = await render({}, { k: bytes('v1') });
    const c = await render({}, { k: bytes('v2') });
    expect(a.hash).toBe(b.hash);
    expect(a.hash).not.toBe(c.hash);
  });

  it('rejects keys a Secret cannot hold', async () => {
    await expect(render({}, { 'a/b': bytes('v') })).rejects.toThrow(/not a valid Secret key/);
  });

  it.each([
    ['"."', '.'],
    ['".."', '..'],
    ['"..data"', '..data'],
    ['of 254 characters', 'k'.repeat(254)],
    ['with a space', 'a b'],
  ])('a target key %s (the API server refuses it) is a terminal InvalidSecretKey', async (_, key) => {
    for (const target of [{}, { template: { data: { [key]: 'x' } } }]) {
      await expect(render(target, { [key]: bytes('v') })).rejects.toMatchObject({ reason: 'InvalidSecretKey', retry: 'terminal' });
    }
  });

  it('accepts a 253-character key', async () => {
    expect(Object.keys((await render({}, { ['k'.repeat(253)]: bytes('v') })).data)).toEqual(['k'.repeat(253)]);
  });

  it('a Secret over 1 MiB is a terminal SecretTooLarge that says its size, and no value', async () => {
    const big = { a: new Uint8Array(600 * 1024).fill(0x78), b: new Uint8Array(600 * 1024).fill(0x79) };
    const e = await render({}, big).catch((error: unknown) => error);
    expect(e).toMatchObject({ reason: 'SecretTooLarge', retry: 'terminal', message: expect.stringMatching(/1228802 bytes .*1048576/) });
    expect((e as Error).message).not.toMatch(/xxxx/);
    // Just under the limit, keys counted: what the API server accepts still renders.
    await expect(render({}, { a: new Uint8Array(1024 * 1024 - 1) })).resolves.toBeDefined();
  });

  it('a template of 40,000 "{{" without a "}}" is a parse error, as in ESO, found at once', async () => {
    await expect(render({ template: { data: { k: '{{'.repeat(40_000) } } }, {})).rejects.toMatchObject({ reason: 'TemplateError', message: expect.stringContaining('unable to parse template') });
  });
});
