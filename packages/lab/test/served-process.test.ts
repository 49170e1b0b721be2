// A lab server that dies while starting fails the start at once with its log, and leaves no run
// directory and no process behind; one that never answers times out and is stopped.
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { expect, it } from 'vitest';
import { startServedProcess } from '../src/served-process.js';

const runDirs = (prefix: string) => readdirSync(tmpdir()).filter((name) => name.startsWith(`herdless-${prefix}-`));

it('a server that exits while starting fails at once with its log, and its run directory is gone', async () => {
  const prefix = `served-exit-${process.pid}`;
  let seenDir = '';
  const start = startServedProcess({
    dirPrefix: prefix,
    spawn: (dir) => {
      seenDir = dir;
      return { name: 'dies', command: 'sh', args: ['-c', 'echo the-reason-it-died; exit 3'], logPath: `${dir}/dies.log` };
    },
    ready: async () => false,
    what: 'a server that never comes up',
    timeoutMs: 60_000,
  });
  await expect(start).rejects.toThrow(/dies exited \(3\)[\s\S]*the-reason-it-died/);
  expect(existsSync(seenDir)).toBe(false);
  expect(runDirs(prefix)).toEqual([]);
});

it('a server that never answers is stopped at the deadline, with the last error named', async () => {
  const prefix = `served-silent-${process.pid}`;
  const start = startServedProcess({
    dirPrefix: prefix,
    spawn: (dir) => ({ name: 'silent', command: 'sleep', args: ['600'], logPath: `${dir}/silent.log` }),
    ready: async () => {
      throw new Error('connection refused on purpose');
    },
    what: 'a silent server',
    timeoutMs: 300,
    intervalMs: 20,
  }).catch((error: unknown) => error);
  const error = await start;
  expect(String(error)).toMatch(/timed out after 300 ms waiting for a silent server.*connection refused on purpose/);
  expect(runDirs(prefix)).toEqual([]);
  // The process group is gone: no `sleep 600` of ours is left.
  const { execFileSync } = await import('node:child_process');
  const left = execFileSync('ps', ['-eo', 'pid,args']).toString().split('\n').filter((line) => /\bsleep 600$/.test(line.trim()));
  expect(left.length, `left running: ${left.join('; ')}`).toBe(0);
});
