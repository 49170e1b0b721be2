// For tests only: the real engine, from where scripts/env.sh says setup.sh cached it.
import { defaultTemplateEnginePath, TemplateEngine, type TemplateEngineOptions } from './engine.js';

export function testEnginePath(): string {
  return process.env.HERDLESS_TEMPLATE_ENGINE || defaultTemplateEnginePath();
}

export function loadTestEngine(opts: Partial<TemplateEngineOptions> = {}): Promise<TemplateEngine> {
  return TemplateEngine.load({ path: testEnginePath(), timeoutMs: 10_000, memoryLimitBytes: 256 * 2 ** 20, threads: 1, ...opts });
}
