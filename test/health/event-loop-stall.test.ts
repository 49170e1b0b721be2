// /healthz means "this process's event loop runs": a process whose loop is blocked past the
// stall threshold answers 503 once it can answer at all, and keeps answering so for the hold
// time, so a kubelet probe that arrives after the stall still sees it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { freeLoopbackPort } from '@herdless/lab';

const FIXTURE = fileURLToPath(new URL('./support/stall-fixture.mjs', import.meta.url));
const THRESHOLD_MS = 500;

let child: ChildProcess;
let port: number;

function nextMessage<T>(match: (m: Record<string, unknown>) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      const hit = match(m);
      if (hit === undefined) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(hit);
    };
    const onExit = (code: number | null) => reject(new Error(`expected the fixture to answer, it exited with ${code}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function healthz(): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  port = await freeLoopbackPort();
  child = fork(FIXTURE, [String(port), String(THRESHOLD_MS)], {
    // Plain node on the built dist/, as the herdless processes run: not the test runner's flags.
    execArgv: [],
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await nextMessage((m) => (m.listening ? true : undefined));
});

afterAll(async () => {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
});

test('a process whose event loop runs answers /healthz 200', async () => {
  const r = await healthz();
  expect(r.status).toBe(200);
  expect(r.body).toContain('[+]eventloop ok');
});

test('a stall past the threshold turns /healthz red, and a probe after it still sees it', async () => {
  // The probe is sent while the loop is blocked: it is answered only after the stall, as a
  // kubelet's would be (or times out, which the kubelet counts as a failure too).
  const blocked = nextMessage((m) => (typeof m.blocked === 'number' ? m.blocked : undefined));
  child.send({ blockMs: THRESHOLD_MS * 4 });
  const during = healthz();
  await blocked;
  const [first, after] = [await during, await healthz()];
  for (const r of [first, after]) {
    expect(r.status).toBe(503);
    expect(r.body).toMatch(/\[-\]eventloop failed: event loop stalled for \d+ ms \(threshold 500 ms\)/);
  }
});
