// The chaos workload's bookkeeping: what each key should hold. Every key belongs to one worker,
// which runs its operations one at a time, so the expected final state of a key is exactly its
// last acknowledged operation — unless the operation after it failed, in which case the key may
// hold either (an unacknowledged write may or may not have landed; both are correct).
import { createHash } from 'node:crypto';

export type Outcome = { kind: 'put'; sha: string } | { kind: 'delete' };

export interface KeyHistory {
  acked?: Outcome; // last acknowledged operation
  pending: Outcome[]; // operations after it that failed or were cut off (may or may not have landed)
  everWritten: Set<string>; // sha256 of every body ever sent for this key (a read must match one of them)
}

/** Deterministic pseudo-random bytes for (key, version): bodies are re-derivable, never kept in memory. */
export function body(key: string, version: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let block = createHash('sha256').update(`${key}#${version}`).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, size - off));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export class Ledger {
  readonly keys = new Map<string, KeyHistory>();
  operations = 0;
  acknowledged = 0;

  private history(key: string): KeyHistory {
    let h = this.keys.get(key);
    if (!h) this.keys.set(key, (h = { pending: [], everWritten: new Set() }));
    return h;
  }

  attempt(key: string, o: Outcome): void {
    this.operations++;
    const h = this.history(key);
    if (o.kind === 'put') h.everWritten.add(o.sha);
  }

  ack(key: string, o: Outcome): void {
    this.acknowledged++;
    const h = this.history(key);
    h.acked = o;
    h.pending = [];
  }

  fail(key: string, o: Outcome): void {
    this.history(key).pending.push(o);
  }

  /** Is `seen` (a body's sha, or null for absent) an allowed final state of `key`? */
  allowedFinal(key: string, seen: string | null): boolean {
    const h = this.keys.get(key);
    if (!h) return seen === null;
    const allowed: (string | null)[] = [h.acked ? (h.acked.kind === 'put' ? h.acked.sha : null) : null];
    for (const p of h.pending) allowed.push(p.kind === 'put' ? p.sha : null);
    return allowed.includes(seen);
  }

  /** A read during the run must return some body once written for that key (or nothing). */
  plausibleRead(key: string, seen: string): boolean {
    return this.keys.get(key)?.everWritten.has(seen) ?? false;
  }
}
