// One lab server in a run directory of its own: the directory made and registered for removal,
// the process spawned in its own group, a readiness probe awaited (failing at once if the
// process dies), and one stop() that ends the process and removes the directory — also when the
// start itself fails half-way. Jaeger, the real ESO and redis-server start through it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetDirectory, removeDirectoryOnExit, spawnProcessGroup, type ManagedProcess, type SpawnOptions } from './process-group.js';
import { waitUntil } from './wait-until.js';

export interface ServedProcessOptions {
  /** Prefix of the temporary run directory (`herdless-<prefix>-…`). */
  dirPrefix: string;
  /** What to run, given the run directory (write config files into it first if needed). */
  spawn: (dir: string) => SpawnOptions | Promise<SpawnOptions>;
  /** True once the server answers; an error counts as "not yet" and is named if the wait times out. */
  ready: () => Promise<boolean>;
  /** What is awaited, for the timeout's message. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
}

export interface ServedProcess {
  dir: string;
  process: ManagedProcess;
  /** Ends the process (SIGTERM, then SIGKILL) and removes the run directory. */
  stop(): Promise<void>;
}

export async function startServedProcess(opts: ServedProcessOptions): Promise<ServedProcess> {
  const dir = await mkdtemp(join(tmpdir(), `herdless-${opts.dirPrefix}-`));
  removeDirectoryOnExit(dir);
  let proc: ManagedProcess | undefined;
  const stop = async () => {
    await proc?.stop();
    await rm(dir, { recursive: true, force: true });
    forgetDirectory(dir);
  };
  try {
    const started = spawnProcessGroup(await opts.spawn(dir));
    proc = started;
    await waitUntil(async () => ((await opts.ready()) ? true : undefined), {
      what: opts.what,
      timeoutMs: opts.timeoutMs,
      intervalMs: opts.intervalMs ?? 100,
      watch: [started],
    });
    return { dir, process: started, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
