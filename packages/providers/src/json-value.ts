// Reads properties out of a JSON secret value the way ESO does (gjson for simple paths, Go's
// encoding/json for maps), keeping each value's raw text so numbers and nested objects come
// out byte-for-byte as stored. Errors name the property and the key, never the value.
import { Reasons, terminal } from '@herdless/core';

/** A parsed JSON value that remembers its source text. */
export type JsonNode =
  | { kind: 'object'; raw: string; entries: [string, JsonNode][] }
  | { kind: 'array'; raw: string; items: JsonNode[] }
  | { kind: 'string'; raw: string; value: string }
  | { kind: 'number' | 'true' | 'false' | 'null'; raw: string };

class JsonSyntaxError extends Error {}

/** Parses `text` as JSON keeping raw spans; throws JsonSyntaxError on anything else. */
export function parseJsonNode(text: string): JsonNode {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const fail = (): never => {
    throw new JsonSyntaxError(`invalid JSON at offset ${i}`);
  };
  const value = (): JsonNode => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: [string, JsonNode][] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { kind: 'object', raw: text.slice(start, i), entries };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        const key = string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        entries.push([key.value, value()]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { kind: 'object', raw: text.slice(start, i), entries };
        }
        fail();
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { kind: 'array', raw: text.slice(start, i), items };
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { kind: 'array', raw: text.slice(start, i), items };
        }
        fail();
      }
    }
    if (c === '"') return string();
    for (const [word, kind] of [['true', 'true'], ['false', 'false'], ['null', 'null']] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return { kind, raw: word };
      }
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += (m as RegExpExecArray)[0].length;
    return { kind: 'number', raw: text.slice(start, i) };
  };
  const string = (): { kind: 'string'; raw: string; value: string } => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      i++;
    }
    if (i >= text.length) fail();
    i++;
    const raw = text.slice(start, i);
    try {
      return { kind: 'string', raw, value: JSON.parse(raw) as string };
    } catch {
      return fail();
    }
  };
  const root = value();
  ws();
  if (i !== text.length) fail();
  return root;
}

/** gjson's Result.String(): strings decoded, integers and JSON verbatim, floats without exponent. */
export function nodeText(node: JsonNode): string {
  switch (node.kind) {
    case 'string':
      return node.value;
    case 'null':
      return '';
    case 'number': {
      if (/^-?\d+$/.test(node.raw)) return node.raw;
      const n = Number(node.raw);
      const s = String(n);
      return s.includes('e') ? n.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 }) : s;
    }
    default:
      return node.raw;
  }
}

function child(node: JsonNode, name: string): JsonNode | undefined {
  if (node.kind === 'object') return node.entries.find(([k]) => k === name)?.[1];
  if (node.kind === 'array' && /^\d+$/.test(name)) return node.items[Number(name)];
  return undefined;
}

/** Splits a gjson-style path on unescaped dots ("a.b\\.c" → ["a", "b.c"]). */
export function splitPath(path: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i] as string;
    if (c === '\\' && i + 1 < path.length) {
      cur += path[++i];
    } else if (c === '.') {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  return parts;
}

/**
 * ESO's property lookup: a property containing dots is first tried as one literal key
 * ("db.host" as a key), then as a path (db → host). Arrays are indexed by number.
 */
export function findProperty(root: JsonNode, property: string): JsonNode | undefined {
  if (property.includes('.')) {
    const literal = child(root, property);
    if (literal) return literal;
  }
  let node: JsonNode | undefined = root;
  for (const part of splitPath(property)) {
    node = node && child(node, part);
    if (!node) return undefined;
  }
  return node;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

function parseOrThrow(payload: string, key: string, wanted: string): JsonNode {
  try {
    return parseJsonNode(payload);
  } catch {
    throw terminal(Reasons.RemotePropertyNotFound, `expected the value of key "${key}" to be JSON to read ${wanted}, found text that is not JSON`);
  }
}

/** The bytes of `property` of a JSON value (dataFrom / data with remoteRef.property). */
export function extractProperty(value: Uint8Array, property: string, key: string): Uint8Array {
  const root = parseOrThrow(utf8Decoder.decode(value), key, `property "${property}"`);
  const node = findProperty(root, property);
  if (!node) {
    throw terminal(Reasons.RemotePropertyNotFound, `expected property "${property}" in the value of key "${key}", found none`);
  }
  return utf8.encode(nodeText(node));
}

/** A JSON object's top-level keys (dataFrom.extract): strings decoded, other values as raw JSON. */
export function secretMapOf(value: Uint8Array, key: string): Record<string, Uint8Array> {
  const root = parseOrThrow(utf8Decoder.decode(value), key, 'a map');
  if (root.kind !== 'object') {
    throw terminal(Reasons.RemotePropertyNotFound, `expected the value of key "${key}" to be a JSON object, found a JSON ${root.kind}`);
  }
  const out: Record<string, Uint8Array> = {};
  for (const [k, v] of root.entries) out[k] = utf8.encode(v.kind === 'string' ? v.value : v.raw);
  return out;
}

/** Bytes by which Go orders strings (its sort of map keys): UTF-8, not JavaScript's UTF-16 units. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Lone surrogates as U+FFFD: what Go's JSON decoder (the AWS SDK's) makes of them. */
function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** A string as Go's encoding/json writes it (HTML-safe: <, >, & escaped; U+2028/2029 escaped). */
function goJsonString(s: string): string {
  let out = '"';
  for (const ch of wellFormed(s)) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * A map of strings as Go's json.Marshal writes a map[string]string, byte for byte: keys sorted
 * by their UTF-8 bytes, no spaces. ESO returns resource tags this way (metadataPolicy Fetch);
 * a key given twice keeps its last value, as filling a Go map does.
 */
export function goJsonOfStringMap(entries: Iterable<readonly [string, string]>): string {
  const map = new Map<string, string>();
  for (const [k, v] of entries) map.set(wellFormed(k), v);
  const keys = [...map.keys()].sort(compareUtf8);
  return `{${keys.map((k) => `${goJsonString(k)}:${goJsonString(map.get(k) as string)}`).join(',')}}`;
}
