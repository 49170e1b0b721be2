// The lab's AWS endpoint in its own process runs at a raised CPU priority where the lab may raise
// it: it stands for a store on other machines, and on a CPU the storm saturates an endpoint
// waiting for its turn stamped one second's calls into the next (61 calls counted at a quota
// of 60). Where raising it is not permitted, the endpoint says so by its nice value.
import { spawn, type ChildProcess } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { ENDPOINT_NICE, startAwsEndpointProcess } from '@herdless/cli';
import { spawnHerdless, type HerdlessProcess } from '../e2e/support/processes.js';

const started: HerdlessProcess[] = [];

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
});

/** Whether this test process may raise a process's priority (root, or CAP_SYS_NICE). */
async function mayRaisePriority(): Promise<boolean> {
  const probe = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    setPriority(probe.pid as number, -1);
    return true;
  } catch {
    return false;
  } finally {
    const exited = new Promise((resolve) => probe.once('exit', resolve));
    probe.kill('SIGKILL');
    await exited;
  }
}

describe('the lab AWS endpoint process', () => {
  it('runs at nice ENDPOINT_NICE where permitted, and reports the nice value it has', async () => {
    let child: ChildProcess | undefined;
    const endpoint = await startAwsEndpointProcess((name, args) => {
      const p = spawnHerdless(name, args);
      started.push(p);
      child = p.child;
      return p.child;
    }, 'the output of the test endpoint process');
    expect(child?.pid).toBeTypeOf('number');
    expect(endpoint.nice).toBe(getPriority(child?.pid as number));
    expect(endpoint.nice).toBe((await mayRaisePriority()) ? ENDPOINT_NICE : getPriority());
    // It still answers as an endpoint.
    await endpoint.setQuota('GetSecretValue', 5, 5);
    expect(await endpoint.throttledSince(0)).toBe(0);
  });
});
