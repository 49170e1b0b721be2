import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@herdless/core';
import { TemplateEngine } from './engine.js';
import { renderTemplate, type SecretBytes } from './eso-ops.js';
import { loadTestEngine, testEnginePath } from './test-engine.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s));
const text = (data: SecretBytes) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString()]));
const noSources = { configMaps: {}, secrets: {} };

let engine: TemplateEngine;
beforeAll(async () => {
  engine = await loadTestEngine();
});
afterAll(() => engine?.close());

const render = (data: Record<string, string>, values: Record<string, string>) =>
  renderTemplate(engine, {
    namespace: 'ns',
    template: { data },
    data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, bytes(v)])),
    sources: noSources,
  });

// Cases of ESO v0.20.4's pkg/template/v2/template_test.go (TestExecute), facts carried over.
describe("ESO's template engine v2 (WebAssembly)", () => {
  it.each([
    ['b64dec func', '{{ .secret | b64dec }}', { secret: 'MTIzNA==' }, '1234'],
    ['fromJson func', '{{ $var := .secret | fromJson }}{{ $var.foo }}', { secret: '{"foo": "bar"}' }, 'bar'],
    ['from & toJson func', '{{ $var := .secret | fromJson }}{{ $var.foo | toJson }}', { secret: '{"foo": {"baz":"bang"}}' }, '{"baz":"bang"}'],
    ['fromJson & toYaml func', '{{ $var := .secret | fromJson | toYaml }}{{ $var }}', { secret: '{"foo": "bar"}' }, 'foo: bar'],
    ['fromYaml & toJson func', '{{ $var := .secret | fromYaml | toJson }}{{ $var }}', { secret: 'foo: bar' }, '{"foo":"bar"}'],
    ['use sprig functions', '{{ .path | ext }}', { path: 'foo/bar/baz.exe' }, '.exe'],
    ['use replace function', '{{ .conn | replace "postgres://" "db+postgresql://"}}', { conn: 'postgres://user:pass@db.host:5432/dbname' }, 'db+postgresql://user:pass@db.host:5432/dbname'],
    ['use upper function', '{{ .value | upper }}', { value: 'username' }, 'USERNAME'],
    ['base64 pipeline', '{{ "123412341234" | b64enc | b64dec }}', {}, '123412341234'],
    ['base64 decode error (silent: sprig writes the error as the value)', '{{ .example | b64dec }}', { example: 'iam_no_base64' }, 'illegal base64 data at input byte 3'],
    ['fromJson error (silent)', '{{ "{ # no json # }" | fromJson }}', {}, '<no value>'],
  ])('%s', async (_, template, values, expected) => {
    expect(text((await render({ key: template }, values)).data)).toEqual({ key: expected });
  });

  it.each([
    ['template syntax error', '{{ #xx }}', 'unable to parse template at key key'],
    ['unknown key error', '{{ .unknown }}', 'unable to execute template at key key'],
    // env and expandenv are removed from sprig: a tenant's template cannot read the worker's environment.
    ['env is not a function', '{{ env "HOME" }}', 'function "env" not defined'],
  ])('%s is a TemplateError with ESO\'s text', async (_, template, message) => {
    await expect(render({ key: template }, {})).rejects.toMatchObject({ reason: 'TemplateError', retry: 'terminal', message: expect.stringContaining(message) });
  });

  it('an error quoting a value (strconv, fail) carries no value into the condition', async () => {
    const e = await render({ k: '{{ .pass | atoi | add 1 }}{{ .pass | mustToDate "2006" }}' }, { pass: 'hunter2-s3cr3t' }).catch((error: unknown) => error);
    expect(e).toMatchObject({ reason: 'TemplateError', message: expect.stringContaining('[redacted]') });
    expect((e as Error).message).not.toContain('hunter2-s3cr3t');
    const f = await render({ k: '{{ fail .pass }}' }, { pass: 'hunter2-s3cr3t' }).catch((error: unknown) => error);
    expect((f as Error).message).not.toContain('hunter2-s3cr3t');
  });

  it('templates labels and annotations, and keeps the type', async () => {
    const out = await renderTemplate(engine, {
      namespace: 'ns',
      template: { type: 'kubernetes.io/basic-auth', metadata: { labels: { team: '{{ .team | lower }}' }, annotations: { note: 'for {{ .team }}' } }, data: { username: '{{ .user }}' } },
      data: { team: bytes('Payments'), user: bytes('admin') },
      sources: noSources,
    });
    expect(out).toMatchObject({ type: 'kubernetes.io/basic-auth', labels: { team: 'payments' }, annotations: { note: 'for Payments' } });
    expect(text(out.data)).toEqual({ username: 'admin' });
  });

  it('mergePolicy Merge keeps the fetched keys beside the rendered ones; Replace drops them', async () => {
    const data = { a: bytes('1'), b: bytes('2') };
    const merged = await renderTemplate(engine, { namespace: 'ns', template: { mergePolicy: 'Merge', data: { c: '{{ .a }}{{ .b }}' } }, data, sources: noSources });
    expect(text(merged.data)).toEqual({ a: '1', b: '2', c: '12' });
    const replaced = await renderTemplate(engine, { namespace: 'ns', template: { data: { c: '{{ .a }}{{ .b }}' } }, data, sources: noSources });
    expect(text(replaced.data)).toEqual({ c: '12' });
  });

  it('templateFrom: ConfigMap items as Values and KeysAndValues, a Secret, a literal, into Data, Labels and Annotations; data wins', async () => {
    const out = await renderTemplate(engine, {
      namespace: 'ns',
      template: {
        templateFrom: [
          { configMap: { name: 'tpl', items: [{ key: 'config.yaml', templateAs: 'Values' }, { key: 'many', templateAs: 'KeysAndValues' }] }, target: 'Data' },
          { secret: { name: 'tpl-secret', items: [{ key: 'dsn', templateAs: 'Values' }] }, target: 'Annotations' },
          { literal: 'owner: "{{ .user }}"', target: 'Labels' },
        ],
        data: { user: 'from data: {{ .user }}' },
      },
      data: { user: bytes('admin'), pass: bytes('s3cr3t') },
      sources: {
        configMaps: { tpl: { 'config.yaml': 'user: {{ .user }}', many: 'user: "{{ .user }}"\npassword: "{{ .pass }}"' } },
        secrets: { 'tpl-secret': { dsn: bytes('postgres://{{ .user }}@db') } },
      },
    });
    expect(text(out.data)).toEqual({ 'config.yaml': 'user: admin', user: 'from data: admin', password: 's3cr3t' });
    expect(out.labels).toEqual({ owner: 'admin' });
    expect(out.annotations).toEqual({ dsn: 'postgres://admin@db' });
  });

  it("a templateFrom source not in the ExternalSecret's namespace is not found, with ESO's text", async () => {
    await expect(
      renderTemplate(engine, { namespace: 'ns', template: { templateFrom: [{ configMap: { name: 'elsewhere', items: [{ key: 'k', templateAs: 'Values' }] }, target: 'Data' }] }, data: {}, sources: noSources }),
    ).rejects.toMatchObject({ reason: 'TemplateError', message: expect.stringContaining('configmaps "elsewhere" not found') });
  });

  it("getSecretKey reads nothing: the engine has no cluster (ESO's would read any namespace)", async () => {
    await expect(render({ k: '{{ getSecretKey "other" "kube-system" "token" }}' }, {})).rejects.toMatchObject({ reason: 'TemplateError' });
  });

  it('a worker without its engine stops at start with the flag to fix', async () => {
    await expect(TemplateEngine.load({ path: '/nonexistent/eso-template.wasm', timeoutMs: 1000, memoryLimitBytes: 2 ** 27, threads: 1 })).rejects.toThrow(ConfigError);
    await expect(TemplateEngine.load({ path: '/nonexistent/eso-template.wasm', timeoutMs: 1000, memoryLimitBytes: 2 ** 27, threads: 1 })).rejects.toThrow(/--template-engine/);
  });

  it('reads the module from the path it is given', () => {
    expect(testEnginePath()).toMatch(/eso-template\.wasm$/);
  });
});
