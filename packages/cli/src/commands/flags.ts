// A command's flags, read from its zod config schema: name, help text (the field's
// `.meta({ description })`), default, accepted values and environment variable all come from
// the schema and core's naming rule, so `--help` cannot drift from what loadConfig accepts.
// Commander only presents and checks the command line; loadConfig still reads the values
// (flags over HERDLESS_* variables), so this module never reads process.env.
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { CONVENTIONAL_ENV, envName, flagName } from '@herdless/core';

export interface FlagSpec {
  /** The config field (camelCase), and commander's attribute name for the option. */
  key: string;
  /** `--kube-api-qps`. */
  flag: string;
  description: string;
  /** The variables loadConfig reads it from, in order. */
  env: string[];
  /** What the schema fills in when neither flag nor variable is given. */
  defaultValue?: unknown;
  /** `--flag` / `--no-flag` instead of `--flag <value>`. */
  boolean: boolean;
  choices?: string[];
  /** The placeholder in help: `<n>`, `<url>`… */
  placeholder: string;
}

interface JsonProperty {
  description?: string;
  default?: unknown;
  type?: string;
  format?: string;
  enum?: unknown[];
  anyOf?: JsonProperty[];
}

/** Every flag of a config schema, in the schema's order. */
export function flagsOf(schema: z.ZodObject): FlagSpec[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonProperty> };
  return Object.entries(json.properties ?? {}).map(([key, p]) => {
    const variants = p.anyOf ?? [p];
    const boolean = variants.some((v) => v.type === 'boolean');
    const choices = p.enum?.every((v) => typeof v === 'string') ? (p.enum as string[]) : undefined;
    const alias = CONVENTIONAL_ENV[key];
    return {
      key,
      flag: flagName(key),
      description: p.description ?? '',
      env: alias ? [envName(key), alias] : [envName(key)],
      ...(p.default !== undefined ? { defaultValue: p.default } : {}),
      boolean,
      ...(choices ? { choices } : {}),
      placeholder: placeholderOf(p),
    };
  });
}

function placeholderOf(p: JsonProperty): string {
  if (p.enum) return '<value>';
  if (p.format === 'uri') return '<url>';
  if (p.type === 'integer') return '<n>';
  if (p.type === 'number') return '<number>';
  return '<string>';
}

/** Help text of one flag: what it does, then its default and variables. */
export function helpText(f: FlagSpec): string {
  const facts: string[] = [];
  // A default the description already explains (one computed at start) is not repeated.
  if (f.defaultValue !== undefined && f.defaultValue !== '' && !/\(default:/.test(f.description)) facts.push(`default: ${String(f.defaultValue)}`);
  facts.push(`env: ${f.env.join(' or ')}`);
  return `${f.description} (${facts.join('; ')})`;
}

/** Adds the flags to a commander command (no defaults there: loadConfig applies the schema's). */
export function addFlags(command: Command, flags: readonly FlagSpec[]): void {
  for (const f of flags) {
    if (f.boolean) {
      command.addOption(new Option(f.flag, helpText(f)));
      command.addOption(new Option(`--no-${f.flag.slice(2)}`, `turn ${f.flag} off`));
      continue;
    }
    const option = new Option(`${f.flag} ${f.placeholder}`, helpText(f));
    if (f.choices) option.choices(f.choices);
    command.addOption(option);
  }
}

/** The flags given on the command line, as `--flag=value` arguments for loadConfig. */
export function givenFlags(command: Command, flags: readonly FlagSpec[]): string[] {
  const values = command.opts<Record<string, unknown>>();
  return flags.filter((f) => command.getOptionValueSource(f.key) === 'cli').map((f) => `${f.flag}=${String(values[f.key])}`);
}
