// The three things the worker asks of ESO's engine, each with ESO's semantics and error text:
// a target template (data, type, metadata, templateFrom, mergePolicy), the shaping of one
// dataFrom entry's map (rewrite, conversionStrategy, key check, decodingStrategy, in ESO's
// order) and the decoding of one data[] value. Bytes cross as base64; no value is ever logged.
import { Reasons, terminal, type DataFrom, type ExternalSecretTemplate, type TerminalReason } from '@herdless/core';
import type { EngineReply, TemplateRenderer } from './engine.js';

export type SecretBytes = Record<string, Uint8Array>;

/** ConfigMap data and Secret data of the templateFrom sources, by name, from the ExternalSecret's namespace. */
export interface TemplateSources {
  configMaps: Record<string, Record<string, string>>;
  secrets: Record<string, SecretBytes>;
}

export interface RenderedTemplate {
  type: string;
  data: SecretBytes;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const toBase64Map = (data: SecretBytes): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
const fromBase64Map = (data: Record<string, string> | undefined): SecretBytes =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]));

/**
 * Go's errors can quote what a template worked on (strconv's `parsing "…"`, sprig's `fail`):
 * every input value found in ESO's message is replaced before it reaches a condition or a log.
 */
export function redactValues(message: string, values: Iterable<Uint8Array>): string {
  let out = message;
  const texts = [...values].map((v) => Buffer.from(v).toString('utf8')).filter((t) => t.length >= 3);
  // Longest first, so a value that contains another is replaced whole.
  for (const text of texts.sort((a, b) => b.length - a.length)) out = out.split(text).join('[redacted]');
  return out;
}

function failed(reply: EngineReply, reason: TerminalReason, field: string, inputs: Iterable<Uint8Array> = []): void {
  if (reply.error !== undefined) throw terminal(reason, `${field}: ${redactValues(reply.error, inputs)}`);
}

/** ESO's ApplyTemplate for a Secret with spec.target.template set (engine v2). */
export async function renderTemplate(
  engine: TemplateRenderer,
  request: { namespace: string; template: ExternalSecretTemplate; data: SecretBytes; sources: TemplateSources },
): Promise<RenderedTemplate> {
  const { template, sources } = request;
  const reply = await engine.call({
    op: 'template',
    namespace: request.namespace,
    // The CRD's default: an object stored without engineVersion renders with v2.
    template: { ...template, engineVersion: template.engineVersion ?? 'v2' },
    data: toBase64Map(request.data),
    configMaps: sources.configMaps,
    secrets: Object.fromEntries(Object.entries(sources.secrets).map(([name, data]) => [name, toBase64Map(data)])),
  });
  const inputs = [...Object.values(request.data), ...Object.values(sources.secrets).flatMap((d) => Object.values(d))];
  failed(reply, Reasons.TemplateError, 'spec.target.template', inputs);
  return { type: reply.type ?? '', data: fromBase64Map(reply.data), labels: reply.labels ?? {}, annotations: reply.annotations ?? {} };
}

/** What ESO does to one dataFrom entry's map once the provider returned it. */
export async function shapeDataFrom(engine: TemplateRenderer, entry: DataFrom, index: number, data: SecretBytes): Promise<SecretBytes> {
  const source = entry.extract ?? entry.find;
  const reply = await engine.call({
    op: 'dataFrom',
    rewrite: entry.rewrite ?? [],
    // The CRD's defaults.
    conversionStrategy: source?.conversionStrategy ?? 'Default',
    decodingStrategy: source?.decodingStrategy ?? 'None',
    data: toBase64Map(data),
  });
  const field = `spec.dataFrom[${index}]`;
  if (reply.error?.startsWith('invalid secret keys')) throw terminal(Reasons.InvalidSecretKey, `${field}: ${redactValues(reply.error, Object.values(data))}`);
  failed(reply, Reasons.InvalidSpec, field, Object.values(data));
  return fromBase64Map(reply.data);
}

/** data[].remoteRef.decodingStrategy for one value (None and absent: the value as is, no call). */
export async function decodeValue(engine: TemplateRenderer, strategy: string | undefined, value: Uint8Array, index: number): Promise<Uint8Array> {
  if (strategy === undefined || strategy === 'None') return value;
  const reply = await engine.call({ op: 'decode', decodingStrategy: strategy, value: Buffer.from(value).toString('base64') });
  failed(reply, Reasons.InvalidSpec, `spec.data[${index}].remoteRef.decodingStrategy`, [value]);
  return new Uint8Array(Buffer.from(reply.value ?? '', 'base64'));
}
