// Failure detection by phi accrual (Hayashibara et al.; as Akka and Cassandra use it), pure.
// Instead of "silent for a fixed timeout", each member's heartbeat intervals are remembered and
// phi says how unlikely the current silence is under that history: phi = -log10(P(a heartbeat
// comes even later)). A member whose heartbeats arrive every second with little jitter is
// suspected a few seconds after it stops; one with a jittery history gets more slack, so a GC
// pause or a busy disk does not flap it. The intervals are modelled as a normal distribution with
// a floor on the standard deviation, plus an acceptable pause added to the mean.

export interface PhiOptions {
  /** Intervals remembered per member. */
  windowSize: number;
  /** Floor of the standard deviation, ms (a perfectly regular history would otherwise make phi explode). */
  minStdDevMs: number;
  /** Extra silence tolerated on top of the mean interval, ms. */
  acceptablePauseMs: number;
  /** The first interval assumed before any is measured, ms. */
  firstIntervalMs: number;
}

export const DEFAULT_PHI: PhiOptions = { windowSize: 100, minStdDevMs: 500, acceptablePauseMs: 1_000, firstIntervalMs: 1_000 };

interface History {
  last: number;
  intervals: number[];
  sum: number;
  sumSq: number;
}

export class PhiAccrual {
  private readonly o: PhiOptions;
  private readonly members = new Map<string, History>();

  constructor(opts: Partial<PhiOptions> = {}) {
    this.o = { ...DEFAULT_PHI, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
  }

  /** A heartbeat from `id` arrived at `now`. */
  heartbeat(id: string, now: number): void {
    const h = this.members.get(id);
    if (!h) {
      // Seed with an interval around the expected one, so the first silence is judged sensibly.
      const first = this.o.firstIntervalMs;
      this.members.set(id, { last: now, intervals: [first], sum: first, sumSq: first * first });
      return;
    }
    const interval = now - h.last;
    h.last = now;
    if (interval <= 0) return;
    h.intervals.push(interval);
    h.sum += interval;
    h.sumSq += interval * interval;
    if (h.intervals.length > this.o.windowSize) {
      const old = h.intervals.shift()!;
      h.sum -= old;
      h.sumSq -= old * old;
    }
  }

  /** phi of `id` at `now`; 0 for a member never heard from (it has no history to judge by). */
  phi(id: string, now: number): number {
    const h = this.members.get(id);
    if (!h) return 0;
    const n = h.intervals.length;
    const mean = h.sum / n + this.o.acceptablePauseMs;
    const variance = Math.max(0, h.sumSq / n - (h.sum / n) ** 2);
    const std = Math.max(Math.sqrt(variance), this.o.minStdDevMs);
    return phiOf(now - h.last, mean, std);
  }

  /** When `id` was last heard from. */
  lastHeartbeat(id: string): number | undefined {
    return this.members.get(id)?.last;
  }

  forget(id: string): void {
    this.members.delete(id);
  }
}

/** -log10 of the normal tail beyond `elapsed`, with the logistic approximation of the CDF (Akka's). */
export function phiOf(elapsed: number, mean: number, std: number): number {
  const y = (elapsed - mean) / std;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  if (elapsed > mean) return -Math.log10(e / (1 + e));
  return -Math.log10(1 - 1 / (1 + e));
}
