// Store credentials read from Kubernetes Secrets (and the ServiceAccounts of auth.jwt), kept in
// this worker's memory for a short time so a burst of jobs against one store does not read the
// same object thousands of times. Never written anywhere else; a rotated credential is picked up
// within ttlMs.

interface Entry<T> {
  value: Promise<T>;
  expiresAt: number;
}

export class CredentialsCache<T = string> {
  private readonly entries = new Map<string, Entry<T>>();
  constructor(
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** `key` names one key of a Secret; a whole object (a ServiceAccount) has none. */
  read(ref: { namespace: string; name: string; key?: string }, load: () => Promise<T>): Promise<T> {
    const id = `${ref.namespace}/${ref.name}/${ref.key ?? ''}`;
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
