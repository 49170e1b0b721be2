// In-memory coalescing: identical reads that arrive while one is in flight, or within a short
// window after its value arrived, share its result. The window counts from the value's arrival,
// not from the read's start: a batched read is in flight for the batch window, and a window
// counted from its start would leave later identical reads nothing to share. Values stay in
// this process's memory for at most the window after they arrive; failures are shared only
// with the calls already waiting.

interface Entry<T> {
  promise: Promise<T>;
  /** When the value arrived (epoch ms); undefined while the read is in flight. */
  settledMs: number | undefined;
  failed: boolean;
}

/**
 * The coalescing key of a read: the operation that reads (a value, or metadata: the same key
 * read by another operation is another thing) and its remote key at one version (undefined:
 * the current one).
 */
export function readIdentityOf(operation: string, resolved: { key: string; version?: string | undefined }): string {
  return `${operation}\u0000${resolved.key}\u0000${resolved.version ?? ''}`;
}

export class Coalescer<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Calls that joined another one instead of running (for the metric). */
  joined = 0;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  run(key: string, call: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && this.holds(key)) {
      this.joined++;
      return hit.promise;
    }
    const entry: Entry<T> = { promise: undefined as unknown as Promise<T>, settledMs: undefined, failed: false };
    entry.promise = call().then(
      (value) => {
        entry.settledMs = this.now();
        if (this.windowMs > 0) setTimeout(() => this.forget(key, entry), this.windowMs).unref();
        else this.forget(key, entry);
        return value;
      },
      (error: unknown) => {
        entry.failed = true;
        this.forget(key, entry);
        throw error;
      },
    );
    this.entries.set(key, entry);
    return entry.promise;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether a run of `key` now would share a call (in flight, or its value within the window). */
  holds(key: string): boolean {
    const hit = this.entries.get(key);
    return hit !== undefined && !hit.failed && (hit.settledMs === undefined || this.now() - hit.settledMs < this.windowMs);
  }

  private forget(key: string, entry: Entry<T>): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}
