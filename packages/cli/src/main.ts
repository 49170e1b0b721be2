#!/usr/bin/env node
// The herdless command. The production commands (scheduler, worker, crds) are always here; the
// lab's commands (lab, bench, aws-endpoint, fault-proxy) only in a checkout: the production
// bundle leaves their folder out, and nothing here loads it unless one of them is named.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CommandSpec } from './commands/command-spec.js';
import { PRODUCTION_COMMANDS } from './commands/index.js';
import { runCli } from './commands/program.js';

async function labCommands(): Promise<readonly CommandSpec[]> {
  if (!existsSync(fileURLToPath(new URL('./lab-commands/index.js', import.meta.url)))) return [];
  return (await import('./lab-commands/index.js')).LAB_COMMANDS;
}

// `herdless worker --help | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

const lab = await labCommands();
process.exitCode = await runCli(process.argv.slice(2), [...PRODUCTION_COMMANDS, ...lab], {
  ...(lab.length === 0 ? { note: 'lab, bench, aws-endpoint and fault-proxy run from a checkout of the repository (./herdless), not from this build.' } : {}),
});
