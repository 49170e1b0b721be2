// What the herdless program knows of a command: a name and a summary up front, the rest
// loaded only when that command runs or shows its help (a worker never loads the scheduler).
import type { z } from 'zod';

export interface CommandSpec {
  name: string;
  /** One line in `herdless --help`. */
  summary: string;
  load(): Promise<CommandModule>;
}

export interface CommandModule {
  /** `herdless <name> --help`'s text above the flags. */
  description: string;
  /** The command's flags: its config schema, each field described with `.meta({ description })`. */
  flags: z.ZodObject;
  /** Positional arguments in commander's notation, e.g. `[scenarios...]`. */
  arguments?: { name: string; description: string };
  /** Runs with the flags given on the command line (`--flag=value`) and the positionals; returns the exit code. */
  run(argv: string[], positionals: string[]): Promise<number>;
}
