// ./herdless from a checkout: the production commands run the build as it is (no set-up script,
// which may apt-get and build the control plane); the lab's commands run the set-up first.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/bundle.js';

const herdless = (...args: string[]) =>
  promisify(execFile)('bash', [join(REPO_ROOT, 'herdless'), ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });

describe('./herdless', () => {
  it('runs scheduler, worker and crds without the set-up; aws-endpoint runs the set-up first', async () => {
    for (const args of [['worker', '--help'], ['scheduler', '--help'], ['crds', '--help'], ['--version']]) {
      const { stderr } = await herdless(...args);
      expect(stderr, args.join(' ')).not.toContain('[setup]');
    }
    const lab = await herdless('aws-endpoint', '--help');
    expect(lab.stderr).toContain('[setup]');
    expect(lab.stdout).toContain('Usage: herdless aws-endpoint');
  });
});
