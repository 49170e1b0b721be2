// The production bundle (scripts/bundle.sh, what deploy/Dockerfile ships), built from this
// checkout into a temporary directory: production dependencies only, no lab package and no lab
// code, and the production commands run from it with nothing else installed.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderCrdsYaml } from '@herdless/core';
import { buildBundle, bundleEntry, REPO_ROOT } from './support/bundle.js';
import { CHART_DIR } from './support/helm.js';

const dir = join(mkdtempSync(join(tmpdir(), 'herdless-bundle-test-')), 'bundle');
afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
beforeAll(() => buildBundle(dir), 120_000);

/** Every file under `root` (links followed once: pnpm's node_modules is links into .pnpm). */
function files(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(root);
  return out;
}

async function run(...args: string[]) {
  // Only PATH: the bundle must not lean on anything of the checkout's environment.
  return promisify(execFile)(process.execPath, [bundleEntry(dir), ...args], { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '' } }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout, err: stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, out: e.stdout ?? '', err: e.stderr ?? '' }),
  );
}

describe('the production bundle', () => {
  it('holds no @herdless/lab, no lab commands, no development dependency, and no file that imports the lab', () => {
    const all = files(dir);
    const store = readdirSync(join(dir, 'node_modules', '.pnpm'));
    expect(existsSync(join(dir, 'node_modules', '@herdless', 'lab'))).toBe(false);
    expect(store.filter((p) => /^@herdless\+lab@|^(cli-progress|echarts|playwright-core|vitest|typescript|turbo)@/.test(p))).toEqual([]);
    expect(all.filter((f) => /[/\\](lab-commands|lab|bench)[/\\]/.test(f.slice(dir.length)) && !f.includes('node_modules'))).toEqual([]);
    const importsLab = all.filter((f) => /\.(c|m)?js$/.test(f) && readFileSync(f, 'utf8').includes('@herdless/lab'));
    expect(importsLab.map((f) => f.slice(dir.length))).toEqual([]);
    expect(readdirSync(join(dir, 'node_modules', '@herdless')).sort()).toEqual(['core', 'providers', 'scheduler', 'worker']);
    // What the runtime reads besides code: the limiter's Lua scripts.
    const lua = join(REPO_ROOT, 'packages', 'providers', 'lua');
    for (const f of readdirSync(lua)) expect(readFileSync(join(dir, 'node_modules', '@herdless', 'providers', 'lua', f), 'utf8'), f).toBe(readFileSync(join(lua, f), 'utf8'));
    const bytes = all.reduce((n, f) => n + statSync(f).size, 0);
    console.log(`production bundle: ${all.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
  });

  it('runs `worker --help`, `scheduler --help`, `crds` and `--version` with nothing else installed; the lab commands are not there', async () => {
    const [worker, scheduler, crds, version, help, lab] = await Promise.all([run('worker', '--help'), run('scheduler', '--help'), run('crds'), run('--version'), run('--help'), run('lab')]);
    expect(worker).toMatchObject({ code: 0, out: expect.stringContaining('--concurrency <n>') });
    expect(scheduler).toMatchObject({ code: 0, out: expect.stringContaining('--lease-name <string>') });
    expect(crds).toEqual({ code: 0, out: renderCrdsYaml(), err: '' });
    const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    expect(version.out.trim()).toBe(chart.appVersion);
    expect(help.out).toMatch(/^  scheduler /m);
    expect(help.out).not.toMatch(/^  (lab|bench|aws-endpoint|fault-proxy) /m);
    expect(help.out).toContain('run from a checkout of the repository');
    expect(lab).toMatchObject({ code: 2, err: expect.stringContaining("unknown command 'lab'") });
  });

  it('is what the Dockerfile ships: built by scripts/bundle.sh, run as node dist/main.js, NODE_ENV=production, base image pinned by digest', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'deploy', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/bash scripts\/bundle\.sh \/out/);
    expect(dockerfile).toMatch(/COPY --from=build \/out \/app/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "\/app\/dist\/main\.js"\]/);
    expect(dockerfile).toMatch(/ENV NODE_ENV=production/);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24[-.a-z0-9]*@sha256:[0-9a-f]{64}$/m);
    expect(existsSync(bundleEntry(dir))).toBe(true);
  });
});
