// Remote names → valid Kubernetes Secret keys, as ESO's ConvertKeys does for dataFrom.find:
// providers return remote names unchanged ("/team/db" stays "/team/db"); whoever builds the
// target Secret converts them with the find's conversionStrategy.
import { Reasons, terminal } from '@herdless/core';

/** ESO's rule: letters, digits, '-', '.' and '_' are kept; anything else is replaced. */
function convertName(strategy: 'Default' | 'Unicode', name: string): string {
  let out = '';
  for (const ch of name) {
    if (/[\p{L}\p{N}._-]/u.test(ch)) out += ch;
    else out += strategy === 'Unicode' ? `_U${(ch.codePointAt(0) as number).toString(16).padStart(4, '0')}_` : '_';
  }
  return out;
}

/**
 * Converts remote names to Secret keys ("Default": invalid characters → "_", "Unicode": → "_Uxxxx_").
 * Two names that convert to the same key are a terminal error, as in ESO.
 */
export function convertSecretKeys<V>(strategy: 'Default' | 'Unicode' | undefined, data: Record<string, V>): Record<string, V> {
  const out: Record<string, V> = {};
  const from: Record<string, string> = {};
  for (const [name, value] of Object.entries(data)) {
    const key = convertName(strategy ?? 'Default', name);
    if (key in from) {
      throw terminal(Reasons.InvalidSpec, `expected distinct Secret keys after converting remote names, found "${from[key]}" and "${name}" both becoming "${key}"`);
    }
    from[key] = name;
    out[key] = value;
  }
  return out;
}
