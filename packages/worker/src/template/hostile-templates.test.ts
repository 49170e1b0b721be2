import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TemplateEngine } from './engine.js';
import { renderTemplate } from './eso-ops.js';
import { loadTestEngine } from './test-engine.js';

// A tenant's template must cost its own sync a TemplateError, never the worker: each of these
// is stopped by one of the engine's limits, and the next render works. Two engines, so that
// each case can only be stopped by the limit it is about: `timed` (1 s, memory as in
// production) and `capped` (128 MiB, a time limit no machine reaches).
let timed: TemplateEngine;
let capped: TemplateEngine;
beforeAll(async () => {
  [timed, capped] = await Promise.all([
    loadTestEngine({ threads: 1, timeoutMs: 1_000 }),
    loadTestEngine({ threads: 1, timeoutMs: 600_000, memoryLimitBytes: 128 * 2 ** 20 }),
  ]);
});
afterAll(async () => {
  await timed?.close();
  await capped?.close();
});

const render = (engine: TemplateEngine, template: string) =>
  renderTemplate(engine, { namespace: 'ns', template: { data: { k: template } }, data: { a: new Uint8Array(Buffer.from('x')) }, sources: { configMaps: {}, secrets: {} } });

async function stillServes(engine: TemplateEngine): Promise<void> {
  const out = await render(engine, '{{ .a | upper }}');
  expect(Buffer.from(out.data.k as Uint8Array).toString()).toBe('X');
}

const LOOP = '{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}';

describe('hostile templates are bounded', () => {
  it('a loop of 10^10 steps is stopped at the time limit', async () => {
    await expect(render(timed, LOOP)).rejects.toMatchObject({ reason: 'TemplateError', retry: 'terminal', message: expect.stringContaining('took longer than 1000 ms') });
    await stillServes(timed);
  });

  it('a huge output is stopped at the memory limit', async () => {
    await expect(render(capped, '{{ "x" | repeat 200000000 }}')).rejects.toMatchObject({ reason: 'TemplateError', message: expect.stringContaining('needed more than the 128 MiB') });
    await stillServes(capped);
  });

  it('endless recursion ends in an error, not a hang', async () => {
    await expect(render(capped, '{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}')).rejects.toMatchObject({ reason: 'TemplateError' });
    await stillServes(capped);
  });

  it('other renders go on while one runs into its limit', async () => {
    // Its own engine: both threads ready (a replaced thread takes about a second to start).
    const fresh = await loadTestEngine({ threads: 2, timeoutMs: 3_000 });
    try {
      let hostileSettled = false;
      const hostile = render(fresh, LOOP).finally(() => {
        hostileSettled = true;
      });
      await stillServes(fresh);
      expect(hostileSettled).toBe(false);
      await expect(hostile).rejects.toMatchObject({ reason: 'TemplateError' });
    } finally {
      await fresh.close();
    }
  }, 30_000);
});
