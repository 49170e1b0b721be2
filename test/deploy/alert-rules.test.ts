// The alert rules an operator installs are valid Prometheus rules and fire on what they mean:
// `promtool check rules` and `promtool test rules` (promtool of Prometheus v0.316.0, built from
// the Go module proxy and cached by the lab). That every metric the rules and the dashboard
// query exists is checked against a real scrape in test/metrics/scrape-agrees-with-endpoint.test.ts.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, expect, test } from 'vitest';
import { ensureGoTool, PROMTOOL } from '@herdless/lab';

const ALERTS = fileURLToPath(new URL('../../deploy/alerts/', import.meta.url));
let promtool: string;

beforeAll(async () => {
  promtool = await ensureGoTool(PROMTOOL);
}, 1_200_000);

async function run(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(promtool, args, { cwd: ALERTS });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

test('promtool check rules accepts the alert rules', async () => {
  const r = await run('check', 'rules', 'herdless-rules.yaml');
  expect(r.code, r.out).toBe(0);
  expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
});

test('promtool test rules: each alert fires on the series that mean it', async () => {
  const r = await run('test', 'rules', 'herdless-rules.test.yaml');
  expect(r.code, r.out).toBe(0);
  expect(r.out).toContain('SUCCESS');
});
