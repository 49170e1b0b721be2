// What the README promises operators, read back for the tests that hold it to its word: the
// configuration table (chart value ↔ flag ↔ environment variable) and the install section's
// blocks (each marked `<!-- install:<name> -->` above its fence).
import { readFileSync } from 'node:fs';

const README = new URL('../../../README.md', import.meta.url);

export interface ConfigurationRow {
  /** The chart values of the row (backticked paths); empty when the chart sets it otherwise ("the pod's name"). */
  values: string[];
  /** The first cell as written. */
  valueCell: string;
  flags: string[];
  env: string[];
  process: 'scheduler' | 'worker' | 'both';
  /** ⏳: rendered by the chart, not read by the processes yet. */
  pending: boolean;
}

const ticks = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

/** The rows of the table under "## Configuration". */
export function configurationTable(text = readFileSync(README, 'utf8')): ConfigurationRow[] {
  const section = text.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? '';
  const lines = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| chart value') && !l.startsWith('|---'));
  return lines.map((line) => {
    const [valueCell = '', flag = '', env = '', process = ''] = line.split('|').slice(1).map((c) => c.trim());
    return {
      values: ticks(valueCell),
      valueCell,
      flags: ticks(flag),
      env: ticks(env),
      process: process as ConfigurationRow['process'],
      pending: line.includes('⏳'),
    };
  });
}

/** The fenced block under each `<!-- install:<name> -->` marker. */
export function installBlocks(text = readFileSync(README, 'utf8')): Record<string, string> {
  const blocks: Record<string, string> = {};
  for (const m of text.matchAll(/<!-- install:([a-z-]+) -->\n```[a-z]*\n([\s\S]*?)\n```/g)) blocks[m[1] as string] = m[2] as string;
  return blocks;
}
