// The lab report opens in a real browser: Debian's headless Chromium, driven by playwright-core,
// loads index.html from disk with every network request refused, logs no console error, and
// draws every chart with data in it. The report comes from a generated fixture (rendering does
// not need a real storm); the same writer serves `herdless lab` and `herdless bench`.
import { execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { writeReport, type WrittenReport } from '@herdless/lab';
import { generatedLabReport } from './support/report-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's chromium package, installed on first use (apt-get needs its lists first). */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  execSync('apt-get update && apt-get install -y --no-install-recommends chromium', {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 280_000,
  });
}

let dir: string;
let written: WrittenReport;
let browser: Browser | undefined;

beforeAll(async () => {
  ensureChromium();
  dir = mkdtempSync(join(tmpdir(), 'herdless-report-test-'));
  written = await writeReport(generatedLabReport(), dir);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the lab report', () => {
  it('writes results.json with every contender and one SVG file per chart', () => {
    const results = JSON.parse(readFileSync(written.resultsPath, 'utf8')) as ReturnType<typeof generatedLabReport>;
    expect(results.runs[0]?.contenders.map((c) => c.contender)).toEqual(['herdless', 'eso', 'eso-real']);
    // The footprint of each contender's own processes (Redis included) is on the page.
    expect(readFileSync(written.htmlPath, 'utf8')).toContain('herdless footprint (CPU s, peak RSS; Redis included, control plane not): scheduler-1 3.2 s 120 MiB, redis-server 0.4 s 9 MiB; total 3.6 s 129 MiB');
    expect(Object.keys(written.svgPaths)).toHaveLength(4);
    for (const path of Object.values(written.svgPaths)) {
      const svg = readFileSync(path, 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      // Lines and axes are paths; an empty chart has only a handful.
      expect((svg.match(/<path /g) ?? []).length).toBeGreaterThan(10);
    }
  });

  it('opens in headless Chromium without console errors or network requests, and every chart has data', async () => {
    const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    const outside: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      outside.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(written.htmlPath).href);
    await page.waitForFunction(() => (window as unknown as { herdlessChartsReady?: boolean }).herdlessChartsReady === true, undefined, { timeout: 20_000 });
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    expect(readFileSync(join(dir, 'report.png')).length).toBeGreaterThan(20_000);

    const charts = await page.$$eval('.chart', (elements) =>
      elements.map((el) => {
        const paths = [...el.querySelectorAll('svg path')].filter((p) => (p.getAttribute('d') ?? '').length > 20);
        const box = el.getBoundingClientRect();
        return { id: el.getAttribute('data-chart'), paths: paths.length, width: box.width, height: box.height };
      }),
    );
    const series = await page.evaluate(() => {
      const all = (window as unknown as { herdlessCharts: Record<string, { getOption(): { series: Array<{ name: string; data: unknown[] }> } }> }).herdlessCharts;
      return Object.fromEntries(Object.entries(all).map(([id, chart]) => [id, chart.getOption().series.map((s) => s.data.length)]));
    });
    await page.close();

    expect(problems).toEqual([]);
    expect(outside).toEqual([]);
    expect(charts.map((c) => c.id).sort()).toEqual(Object.keys(written.svgPaths).sort());
    for (const chart of charts) {
      expect(chart.width, `${chart.id} width`).toBeGreaterThan(300);
      expect(chart.height, `${chart.id} height`).toBeGreaterThan(200);
      // Each contender's line plus axes and legend icons.
      expect(chart.paths, `${chart.id} drawn paths`).toBeGreaterThan(5);
      const lengths = series[chart.id as string] ?? [];
      expect(lengths.length, `${chart.id} series`).toBeGreaterThanOrEqual(3);
      expect(lengths.every((n) => n > 0), `${chart.id}: every series has data (${lengths.join(', ')})`).toBe(true);
    }
  });
});
