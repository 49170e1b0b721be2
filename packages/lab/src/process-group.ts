// Child servers of the lab (etcd, kube-apiserver, redis-server, …), each in its own process
// group so that stopping it also stops anything it forked. Owns the last-resort cleanup: on
// exit, SIGINT or SIGTERM of this Node process every live group is killed and every run
// directory removed, so a crashed test run leaves nothing behind. Never kills by name.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { LabError } from './lab-error.js';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** True once the process has exited, whatever the reason. */
  hasExited(): boolean;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  logPath: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

const liveGroups = new Map<number, string>();
const dirsToRemove = new Set<string>();
let handlersInstalled = false;

/** Starts `command` detached (a new process group), stdout and stderr appended to `logPath`. */
export function spawnProcessGroup(opts: SpawnOptions): ManagedProcess {
  installExitHandlers();
  const fd = openSync(opts.logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd); // the child holds its own copy
  }
  const pid = child.pid;
  if (pid === undefined) {
    throw new LabError('ProcessExited', `${opts.name}: could not start ${opts.command} (is it installed and executable?)`);
  }
  liveGroups.set(pid, opts.name);
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      liveGroups.delete(pid);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', () => {
      done = true;
      liveGroups.delete(pid);
      resolve('spawn-error');
    });
  });
  // The child must not keep the test runner alive on its own.
  child.unref();

  return {
    name: opts.name,
    pid,
    logPath: opts.logPath,
    exited,
    hasExited: () => done,
    async stop(graceMs = 5_000) {
      if (done) return;
      // Keep the event loop alive until the exit is observed, or Node may leave first.
      child.ref();
      signalGroup(pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
      const outcome = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        signalGroup(pid, 'SIGKILL');
        await exited;
      }
      // The leader is gone; anything it forked into the group goes too.
      signalGroup(pid, 'SIGKILL');
    },
  };
}

/** Removes `dir` on process exit unless {@link forgetDirectory} was called first. */
export function removeDirectoryOnExit(dir: string): void {
  installExitHandlers();
  dirsToRemove.add(dir);
}

export function forgetDirectory(dir: string): void {
  dirsToRemove.delete(dir);
}

/** The last `maxBytes` of a log, for error messages when a server died during start. */
export function logTail(path: string, maxBytes = 4_000): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length > maxBytes ? `…${text.slice(-maxBytes)}` : text;
  } catch {
    return '(no log)';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function killEverythingNow(): void {
  for (const pid of liveGroups.keys()) signalGroup(pid, 'SIGKILL');
  liveGroups.clear();
  for (const dir of dirsToRemove) rmSync(dir, { recursive: true, force: true });
  dirsToRemove.clear();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' handlers may only do synchronous work: SIGKILL and rmSync are.
  process.once('exit', killEverythingNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killEverythingNow();
      // Re-raise with the default disposition so the exit status says what happened.
      process.kill(process.pid, signal);
    });
  }
}
