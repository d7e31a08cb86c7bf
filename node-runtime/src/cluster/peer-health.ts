// What this member has seen of the others lately. A member whose calls fail as unreachable (refused,
// timed out) or that leaves a write unanswered past the hedge delay is suspected for a few seconds:
// the write path then places copies on the next members of the placement order instead of waiting on
// it (data/write-path.ts), reads ask it last, and every heartbeat names it to the roots, whose
// failure detector takes it as evidence (failure-detector.ts). Any answer clears the suspicion;
// without one it lapses after `suspectMs`, so a member that came back is tried again.

/** How long one failure keeps a member suspected. */
export const DEFAULT_SUSPECT_MS = 5_000;

export class PeerHealth {
  readonly #until = new Map<string, number>();
  readonly #suspectMs: number;
  readonly #now: () => number;

  constructor(o: { suspectMs?: number; now?: () => number } = {}) {
    this.#suspectMs = o.suspectMs ?? DEFAULT_SUSPECT_MS;
    this.#now = o.now ?? Date.now;
  }

  /** A call to `id` failed without an answer (refused, timed out), or a write to it went unanswered too long. */
  unreachable(id: string): void {
    this.#until.set(id, this.#now() + this.#suspectMs);
  }

  /** `id` answered something (any HTTP answer, errors included): it is there. */
  answered(id: string): void {
    this.#until.delete(id);
  }

  suspected(id: string): boolean {
    const until = this.#until.get(id);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#until.delete(id);
    return false;
  }

  /** Every member suspected now (for the heartbeats). */
  suspects(): string[] {
    return [...this.#until.keys()].filter((id) => this.suspected(id));
  }
}
