// The herdless program: commander presents the commands, their flags (from each command's
// config schema), --help and --version, and turns usage errors into exit code 2; the command
// itself runs with core's loadConfig. Only the command named on the line is loaded.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '@herdless/core';
import type { CommandSpec } from './command-spec.js';
import { EXIT_CODES_HELP, EXIT_FAILURE, EXIT_USAGE } from './exit-codes.js';
import { addFlags, flagsOf, givenFlags } from './flags.js';

const DESCRIPTION = 'herdless: sync External Secrets (external-secrets.io/v1) without stampeding the secret store';

/** The version of this build: the CLI package's (the image and the chart's appVersion carry the same). */
export function herdlessVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export interface CliOptions {
  /** A line under the command list (the bundle says where the lab commands went). */
  note?: string;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** Runs `herdless <argv>` and returns its exit code. */
export async function runCli(argv: readonly string[], commands: readonly CommandSpec[], opts: CliOptions = {}): Promise<number> {
  const out = opts.out ?? ((text: string) => process.stdout.write(text));
  const err = opts.err ?? ((text: string) => process.stderr.write(text));
  const program = new Command('herdless')
    .description(DESCRIPTION)
    .version(herdlessVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .helpCommand('help [command]', "print a command's help")
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `\nEvery flag may also be given as an environment variable, HERDLESS_<FLAG> (a flag wins over its variable).\n` +
        `Run "herdless <command> --help" for a command's flags.\n${opts.note ? `${opts.note}\n` : ''}\n${EXIT_CODES_HELP}\n`,
    );

  let code = 0;
  const named = argv[0] === 'help' ? argv[1] : argv[0];
  for (const spec of commands) {
    const command = program.command(spec.name).summary(spec.summary).helpOption('-h, --help', 'print this help and exit');
    if (spec.name !== named) continue;
    const module = await spec.load();
    const flags = flagsOf(module.flags);
    command.description(module.description).addHelpText('after', `\n${EXIT_CODES_HELP}\n`);
    if (module.arguments) command.argument(module.arguments.name, module.arguments.description);
    addFlags(command, flags);
    command.action(async (...args: unknown[]) => {
      const self = args.at(-1) as Command;
      code = await module.run(givenFlags(self, flags), self.args);
    });
  }

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    if (e instanceof ConfigError) {
      err(`herdless: ${e.message}\n`);
      return EXIT_USAGE;
    }
    err(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_FAILURE;
  }
}
