// Store credentials read from Kubernetes Secrets, kept in this worker's memory for a short
// time so a burst of jobs against one store does not read the same Secret thousands of times.
// Never written anywhere else; a rotated credential is picked up within ttlMs.

interface Entry {
  value: Promise<string>;
  expiresAt: number;
}

export class CredentialsCache {
  private readonly entries = new Map<string, Entry>();
  constructor(
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  read(ref: { namespace: string; name: string; key: string }, load: () => Promise<string>): Promise<string> {
    const id = `${ref.namespace}/${ref.name}/${ref.key}`;
    const now = this.now();
    const hit = this.entries.get(id);
    if (hit && hit.expiresAt > now) return hit.value;
    const value = load();
    this.entries.set(id, { value, expiresAt: now + this.ttlMs });
    // A failed read is not cached: the next job tries again.
    value.catch(() => {
      if (this.entries.get(id)?.value === value) this.entries.delete(id);
    });
    return value;
  }
}
