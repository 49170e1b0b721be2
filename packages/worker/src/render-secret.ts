// Pure rendering: fetched data + the ExternalSecret's target/template → the Secret's bytes.
// ESO semantics: dataFrom first, then data (later keys win); a template with data replaces
// the fetched keys unless mergePolicy is Merge. Placeholders are {{ .key }}.
import { createHash } from 'node:crypto';
import { checkSecretKey, checkSecretSize, Reasons, terminal, type ExternalSecret } from '@herdless/core';
import { replacePlaceholders } from './placeholders.js';

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

const FIELD = /^\.([A-Za-z_][A-Za-z0-9_.-]*)$|^index\s+\.\s+"([^"]+)"$/;

/** Renders one template string; an unknown key or unsupported expression is a TemplateError. */
export function renderTemplateString(template: string, values: SecretData, templateKey: string): string {
  return replacePlaceholders(template, (expr) => {
    const match = FIELD.exec(expr);
    if (!match) {
      throw terminal(
        Reasons.TemplateError,
        `template key "${templateKey}": expected a placeholder like {{ .key }} or {{ index . "key" }}, found {{ ${expr} }}`,
      );
    }
    const key = (match[1] ?? match[2]) as string;
    const value = values[key];
    if (value === undefined) {
      const known = Object.keys(values).sort();
      throw terminal(
        Reasons.TemplateError,
        `template key "${templateKey}" refers to "${key}", which the fetched data does not have (keys: ${known.join(', ') || 'none'})`,
      );
    }
    return Buffer.from(value).toString('utf8');
  });
}

export function renderSecret(es: ExternalSecret, fetched: SecretData): RenderedSecret {
  const template = es.spec.target.template;
  let out: SecretData;
  if (template?.data && Object.keys(template.data).length > 0) {
    const rendered: SecretData = {};
    for (const [key, text] of Object.entries(template.data)) {
      rendered[key] = Buffer.from(renderTemplateString(text, fetched, key), 'utf8');
    }
    out = template.mergePolicy === 'Merge' ? { ...fetched, ...rendered } : rendered;
  } else {
    out = fetched;
  }
  for (const key of Object.keys(out)) checkSecretKey(key, 'target key');
  checkSecretSize(out);
  const data = Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, Buffer.from(out[k] as Uint8Array).toString('base64')]),
  );
  const type = template?.type ?? 'Opaque';
  const labels = { ...(template?.metadata?.labels ?? {}) };
  const annotations = { ...(template?.metadata?.annotations ?? {}) };
  const immutable = es.spec.target.immutable;
  const hash = createHash('sha256')
    .update(JSON.stringify({ type, data, labels, annotations, immutable: immutable ?? null }))
    .digest('hex');
  return { type, data, labels, annotations, immutable, hash };
}
