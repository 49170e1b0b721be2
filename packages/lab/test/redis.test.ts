// A private redis-server: answers on its loopback port, persists nothing, and is gone after stop().
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { startRedis } from '@herdless/lab';

const run = promisify(execFile);

it('starts a private redis-server without persistence and stops it', async () => {
  const redis = await startRedis();
  try {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    const cli = (...args: string[]) => run('redis-cli', ['-p', String(redis.port), ...args]).then((r) => r.stdout.trim());
    expect(await cli('PING')).toBe('PONG');
    expect(await cli('CONFIG', 'GET', 'save')).toBe('save');
    expect(await cli('CONFIG', 'GET', 'appendonly')).toBe('appendonly\nno');
  } finally {
    await redis.stop();
  }
  expect(existsSync(redis.dir)).toBe(false);
  const refused = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port: redis.port });
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
  expect(refused).toBe(true);
});
