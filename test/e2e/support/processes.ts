// Runs herdless commands as separate processes for end-to-end tests, keeps their output in
// memory (tests scan it for leaked values) and always stops them. The production commands
// (scheduler, worker, crds) run from the production bundle, as the image runs them; the lab's
// commands (aws-endpoint, fault-proxy…) from this checkout's build.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { productionBundleEntry } from '../../deploy/support/bundle.js';

/** The checkout's CLI (every command, the lab's included). */
export const CLI = fileURLToPath(new URL('../../../packages/cli/dist/main.js', import.meta.url));
const PRODUCTION_COMMANDS = new Set(['scheduler', 'worker', 'crds']);

export interface HerdlessProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function spawnHerdless(name: string, args: string[], env: Record<string, string> = {}): HerdlessProcess {
  const entry = PRODUCTION_COMMANDS.has(args[0] ?? '') ? productionBundleEntry() : CLI;
  const child = spawn(process.execPath, [entry, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (d: Buffer) => chunks.push(d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => chunks.push(d.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    output: () => chunks.join(''),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function stopAll(processes: HerdlessProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.stop()));
}
