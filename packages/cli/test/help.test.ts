// `herdless <command> --help` for every command the program has: exit 0, and every flag of the
// command's config schema named with its description and environment variable. The list of
// commands and flags comes from the program's own registry and schemas, so a command or flag
// added later is walked too.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PRODUCTION_COMMANDS } from '../src/commands/index.js';
import { flagsOf } from '../src/commands/flags.js';
import { LAB_COMMANDS } from '../src/lab-commands/index.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const COMMANDS = [...PRODUCTION_COMMANDS, ...LAB_COMMANDS];

async function herdless(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return promisify(execFile)(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '' } }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout, err: stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, out: e.stdout ?? '', err: e.stderr ?? '' }),
  );
}

/** Help text with its line wrapping undone, so a long description can be searched for. */
const unwrap = (text: string) => text.replace(/\s+/g, ' ');

describe('herdless --help', () => {
  it('lists every command, the environment variables rule and the exit codes; --version prints the version', async () => {
    const [help, version, bare] = await Promise.all([herdless('--help'), herdless('--version'), herdless()]);
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.out, c.name).toMatch(new RegExp(`^  ${c.name} `, 'm'));
    expect(help.out).toContain('HERDLESS_<FLAG>');
    expect(help.out).toMatch(/Exit codes:\n  0 .*\n  1 .*\n  2 /);
    expect(version).toMatchObject({ code: 0, out: `${VERSION}\n` });
    // No command is a usage error: the help goes to stderr.
    expect(bare.code).toBe(2);
    expect(bare.err).toContain('Usage: herdless');
  });

  for (const spec of COMMANDS) {
    it(`herdless ${spec.name} --help and -h exit 0 and name every flag with its description, default and variable`, async () => {
      const module = await spec.load();
      const flags = flagsOf(module.flags);
      const [long, short] = await Promise.all([herdless(spec.name, '--help'), herdless(spec.name, '-h')]);
      expect(long.code, long.err).toBe(0);
      expect(short).toEqual(long);
      const text = unwrap(long.out);
      expect(text).toContain(`Usage: herdless ${spec.name}`);
      expect(text).toContain(unwrap(module.description));
      const missing: string[] = [];
      for (const f of flags) {
        if (!f.description) missing.push(`${f.flag}: no description in the schema`);
        if (!text.includes(`${f.flag} `)) missing.push(`${f.flag}: not in the help`);
        if (!text.includes(unwrap(f.description))) missing.push(`${f.flag}: description not in the help`);
        for (const env of f.env) if (!text.includes(env)) missing.push(`${f.flag}: ${env} not in the help`);
        if (f.defaultValue !== undefined && f.defaultValue !== '' && !/\(default:/.test(f.description) && !text.includes(`default: ${String(f.defaultValue)}`)) {
          missing.push(`${f.flag}: default ${String(f.defaultValue)} not in the help`);
        }
      }
      expect(missing).toEqual([]);
    });
  }

  it('an unknown command, an unknown flag or a value that breaks its rule is a usage error (exit 2) that names it', async () => {
    const [command, flag, value] = await Promise.all([herdless('nope'), herdless('worker', '--no-such-flag'), herdless('worker', '--concurrency', '0')]);
    expect({ code: command.code, err: command.err }).toMatchObject({ code: 2, err: expect.stringContaining("unknown command 'nope'") });
    expect({ code: flag.code, err: flag.err }).toMatchObject({ code: 2, err: expect.stringContaining("unknown option '--no-such-flag'") });
    expect({ code: value.code, err: value.err }).toMatchObject({ code: 2, err: expect.stringMatching(/--concurrency \(HERDLESS_CONCURRENCY\): /) });
  });
});
