// In-memory coalescing: identical reads that arrive while one is in flight, or within a short
// window after it started, share its result. Values stay in this process's memory for at
// most the window; failures are shared only with the calls already waiting.

export class Coalescer<T> {
  private readonly entries = new Map<string, { promise: Promise<T>; startedMs: number; settled: boolean; failed: boolean }>();
  /** Calls that joined another one instead of running (for the metric). */
  joined = 0;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  run(key: string, call: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && !hit.failed && (!hit.settled || this.now() - hit.startedMs < this.windowMs)) {
      this.joined++;
      return hit.promise;
    }
    const entry = { promise: undefined as unknown as Promise<T>, startedMs: this.now(), settled: false, failed: false };
    entry.promise = call().then(
      (value) => {
        entry.settled = true;
        const left = entry.startedMs + this.windowMs - this.now();
        if (left > 0) setTimeout(() => this.forget(key, entry), left).unref();
        else this.forget(key, entry);
        return value;
      },
      (error: unknown) => {
        entry.settled = true;
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

  private forget(key: string, entry: unknown): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}
