// Rendering: fetched data + the ExternalSecret's target/template → the Secret's bytes.
// Without a template the fetched keys are the Secret's data and the ExternalSecret's labels and
// annotations the Secret's; with one, ESO's own template
// engine v2 (WebAssembly, template/engine.ts) renders it exactly as ESO v0.20.4 does.
import { createHash } from 'node:crypto';
import { checkSecretKey, checkSecretSize, type ExternalSecret } from '@herdless/core';
import { renderTemplate, type TemplateSources } from './template/eso-ops.js';
import type { TemplateRenderer } from './template/engine.js';

export type SecretData = Record<string, Uint8Array>;

export interface RenderedSecret {
  type: string;
  /** base64-encoded values, as the Secret's data field holds them. */
  data: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  immutable: boolean | undefined;
  /** sha256 of everything above: equal hashes mean no write is needed. */
  hash: string;
}

const NO_SOURCES: TemplateSources = { configMaps: {}, secrets: {} };

export async function renderSecret(
  es: ExternalSecret,
  fetched: SecretData,
  engine?: TemplateRenderer,
  sources: TemplateSources = NO_SOURCES,
): Promise<RenderedSecret> {
  const template = es.spec.target.template;
  let out: SecretData = fetched;
  let type = 'Opaque';
  // Without a template ESO copies the ExternalSecret's own labels and annotations to the Secret
  // (setMetadata in ESO v0.20.4's externalsecret_controller_template.go); with one, the
  // template's. Herdless's own label and ESO's data-hash annotation are set over them later.
  let labels: Record<string, string> = { ...(es.metadata.labels ?? {}) };
  let annotations: Record<string, string> = { ...(es.metadata.annotations ?? {}) };
  if (template) {
    if (!engine) throw new Error('renderSecret: a template needs the template engine');
    const rendered = await renderTemplate(engine, { namespace: es.metadata.namespace as string, template, data: fetched, sources });
    out = rendered.data;
    type = rendered.type || 'Opaque';
    labels = rendered.labels;
    annotations = rendered.annotations;
  }
  for (const key of Object.keys(out)) checkSecretKey(key, 'target key');
  checkSecretSize(out);
  const data = Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, Buffer.from(out[k] as Uint8Array).toString('base64')]),
  );
  const immutable = es.spec.target.immutable;
  const hash = createHash('sha256')
    .update(JSON.stringify({ type, data, labels, annotations, immutable: immutable ?? null }))
    .digest('hex');
  return { type, data, labels, annotations, immutable, hash };
}
