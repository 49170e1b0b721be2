// A term's pause: the elector closes it when no renewal of the Lease succeeded within the renew
// deadline, and opens it again when a renewal succeeds with the Lease unchanged (this replica
// still its holder, the same leaseTransitions, so nobody else held it meanwhile). While it is
// closed the term enqueues nothing, but it keeps its plan, its adopted jobs and its caches, so a
// late renewal costs a few seconds without enqueues instead of a new term (the queue read again,
// the API server asked for thousands of versions, every item planned anew). In the lab's
// 100,000 run a restarted term took 18 to 65 s to plan again on the loaded API server, and those
// reads made the next renewal late again.

/** Read by the session and its dispatcher as their PauseGate (queue/dispatcher.ts). */
export class TermGate {
  private closed = false;
  private readonly listeners = new Set<(paused: boolean) => void>();

  get paused(): boolean {
    return this.closed;
  }

  onChange(listener: (paused: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Closes the gate; true when it was open. */
  pause(): boolean {
    return this.set(true);
  }

  /** Opens the gate; true when it was closed. */
  resume(): boolean {
    return this.set(false);
  }

  private set(paused: boolean): boolean {
    if (this.closed === paused) return false;
    this.closed = paused;
    for (const listener of [...this.listeners]) listener(paused);
    return true;
  }
}
