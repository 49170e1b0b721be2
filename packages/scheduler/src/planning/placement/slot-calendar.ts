// One-second slots of planned provider calls, per budget key (provider key + operation).
// It only counts: which slot is least loaded or first free is decided by the placement.
// Slots are epoch seconds; a slot's load is the provider calls planned to start in it.

export class SlotCalendar {
  private readonly slots = new Map<string, Map<number, number>>();

  load(key: string, second: number): number {
    return this.slots.get(key)?.get(second) ?? 0;
  }

  /** The live slot map of a key (empty when nothing is planned), for hot loops. */
  slotsOf(key: string): ReadonlyMap<number, number> | undefined {
    return this.slots.get(key);
  }

  add(key: string, second: number, calls: number): void {
    let m = this.slots.get(key);
    if (!m) {
      m = new Map();
      this.slots.set(key, m);
    }
    m.set(second, (m.get(second) ?? 0) + calls);
  }

  remove(key: string, second: number, calls: number): void {
    const m = this.slots.get(key);
    if (!m) return;
    const left = (m.get(second) ?? 0) - calls;
    if (left > 1e-9) m.set(second, left);
    else m.delete(second);
    if (m.size === 0) this.slots.delete(key);
  }

  /** Moves `calls` of a key's load from one slot to another. */
  move(key: string, fromSecond: number, toSecond: number, calls: number): void {
    this.remove(key, fromSecond, calls);
    this.add(key, toSecond, calls);
  }

  keys(): string[] {
    return [...this.slots.keys()];
  }

  /** Total calls planned for `key` in [fromSecond, toSecond]. */
  sum(key: string, fromSecond: number, toSecond: number): number {
    const m = this.slots.get(key);
    if (!m) return 0;
    let total = 0;
    if (toSecond - fromSecond < m.size) {
      for (let s = fromSecond; s <= toSecond; s++) total += m.get(s) ?? 0;
    } else {
      for (const [s, v] of m) if (s >= fromSecond && s <= toSecond) total += v;
    }
    return total;
  }

  /** The highest load of any slot of `key` (for tests and metrics). */
  peak(key: string): { second: number; load: number } | undefined {
    let best: { second: number; load: number } | undefined;
    for (const [second, load] of this.slots.get(key) ?? []) if (!best || load > best.load) best = { second, load };
    return best;
  }

  entries(key: string): Array<[number, number]> {
    return [...(this.slots.get(key) ?? [])].sort((a, b) => a[0] - b[0]);
  }

  /** Drops slots before `second` (they are history). */
  prune(second: number): void {
    for (const [key, m] of this.slots) {
      for (const s of m.keys()) if (s < second) m.delete(s);
      if (m.size === 0) this.slots.delete(key);
    }
  }
}
