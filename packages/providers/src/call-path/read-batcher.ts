// Batching of current-version reads per provider key: reads that arrive within one window
// (or until a batch is full) are sent as one batch call when that spends less of the binding
// quota than single reads would; each caller gets its own value or its own error back.
import { withCallAttributes } from '@herdless/core';
import type { RawReader, SecretBytes } from '../provider.js';

export type BatchingMode = 'auto' | 'always' | 'never';

interface Pending {
  resolve: (v: SecretBytes) => void;
  reject: (e: unknown) => void;
}

export interface ReadBatcherOptions {
  windowMs: number;
  /** Budgets (rps) of the single-read and batch-read buckets, to choose the cheaper. */
  singleBudgetRps: number;
  batchBudgetRps: number;
  mode: BatchingMode;
  /** Called once per call sent: its operation and how many values it read. */
  onCall?: (operation: string, values: number) => void;
}

/**
 * Batch when the share of the batch budget the calls would use is smaller than the share of
 * the single-read budget: ceil(n / max) / batchBudget < n / singleBudget. With AWS's default
 * quotas (10,000/s vs 100/s) that never happens below 100 keys per call, so single reads win;
 * with a small GetSecretValue share it does.
 */
export function shouldBatch(n: number, maxBatchKeys: number, singleBudgetRps: number, batchBudgetRps: number, mode: BatchingMode): boolean {
  if (mode === 'never' || n < 2) return false;
  if (mode === 'always') return true;
  return Math.ceil(n / maxBatchKeys) / batchBudgetRps < n / singleBudgetRps;
}

/** Whether batching can ever win for this reader, i.e. whether waiting for a window is worth it. */
export function batchingCanWin(reader: RawReader, o: Pick<ReadBatcherOptions, 'singleBudgetRps' | 'batchBudgetRps' | 'mode'>): boolean {
  if (!reader.readRawBatch || !reader.batchOperation) return false;
  return shouldBatch(reader.maxBatchKeys, reader.maxBatchKeys, o.singleBudgetRps, o.batchBudgetRps, o.mode);
}

export class ReadBatcher {
  private pending = new Map<string, Pending>();
  private reader: RawReader | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ReadBatcherOptions) {}

  /** Queues a current-version read of the resolved `key` (already coalesced: one per key). */
  read(reader: RawReader, key: string): Promise<SecretBytes> {
    return new Promise<SecretBytes>((resolve, reject) => {
      this.reader ??= reader;
      this.pending.set(key, { resolve, reject });
      if (this.pending.size >= reader.maxBatchKeys) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.windowMs);
    });
  }

  /** Sends what is pending now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const reader = this.reader;
    const entries = [...this.pending];
    this.pending = new Map();
    this.reader = undefined;
    if (!reader || entries.length === 0) return;
    const batch = reader.readRawBatch && reader.batchOperation
      ? shouldBatch(entries.length, reader.maxBatchKeys, this.opts.singleBudgetRps, this.opts.batchBudgetRps, this.opts.mode)
      : false;
    if (!batch) {
      for (const [key, p] of entries) {
        reader.readRaw({ key }).then((v) => {
          this.opts.onCall?.(reader.readOperation, 1);
          p.resolve(v);
        }, p.reject);
      }
      return;
    }
    for (let i = 0; i < entries.length; i += reader.maxBatchKeys) {
      const chunk = entries.slice(i, i + reader.maxBatchKeys);
      withCallAttributes({ 'herdless.batch_keys': chunk.length }, () => (reader.readRawBatch as NonNullable<RawReader['readRawBatch']>)(chunk.map(([k]) => k))).then(
        (values) => {
          let ok = 0;
          for (const [key, p] of chunk) {
            const v = values.get(key);
            if (v instanceof Error) p.reject(v);
            else if (v === undefined) p.reject(new Error(`batch reply has no entry for a requested key`));
            else {
              ok++;
              p.resolve(v);
            }
          }
          this.opts.onCall?.(reader.batchOperation as string, ok);
        },
        (error: unknown) => {
          for (const [, p] of chunk) p.reject(error);
        },
      );
    }
  }
}
