// The roots' failure detector: when may a silent member be called `down`? Phi accrual (phi.ts) over
// the heartbeats each member sends this root, so a member that beat regularly is given up on seconds
// after it stops while one with a jittery history (GC pauses, a busy disk) gets the slack its history
// asks for instead of flapping; plus evidence from the other members: each heartbeat names the
// members whose calls failed lately (peer-health.ts), and a silence that others also see is believed
// sooner. A report alone never condemns a member that keeps beating (phi stays low): members that
// cannot reach each other but reach the root are a partition, not a failure.
import { PhiAccrual } from './phi.ts';

/** Phi above which a member is down: about 4.6 s after the last of regular 1 s heartbeats. */
export const PHI_DOWN = 8;
/** Phi above which a member that another member reports unreachable is down: about 3.5 s. */
export const PHI_DOWN_REPORTED = 3;
/** How long a report that a member could not be reached counts. */
export const REPORT_TTL_MS = 10_000;

export interface FailureVerdict {
  reason: string;
  phi: number;
  reportedBy?: string[];
}

export class FailureDetector {
  readonly #phi = new PhiAccrual();
  readonly #reports = new Map<string, Map<string, number>>(); // suspect → reporter → when

  /** A heartbeat from `id` at `now`, naming the members it failed to reach lately. */
  heartbeat(id: string, now: number, suspects: readonly string[] = []): void {
    this.#phi.heartbeat(id, now);
    for (const s of suspects) {
      if (s === id) continue;
      let by = this.#reports.get(s);
      if (!by) this.#reports.set(s, (by = new Map()));
      by.set(id, now);
    }
  }

  /**
   * Why `id` is down at `now`, or undefined while its silence is plausible (or it was never heard
   * from here). `heardAnywhere`: the latest heartbeat any root recorded for it (the merged map); a
   * member that still reaches another root is not silent, whatever this root hears.
   */
  verdict(id: string, now: number, heardAnywhere = 0): FailureVerdict | undefined {
    const heardHere = this.#phi.lastHeartbeat(id);
    if (heardHere === undefined) return undefined;
    const phi = this.#phi.phi(id, now - Math.max(0, heardAnywhere - heardHere));
    if (phi >= PHI_DOWN) return { reason: 'heartbeats stopped', phi };
    if (phi < PHI_DOWN_REPORTED) return undefined;
    const reportedBy = [...(this.#reports.get(id) ?? [])].filter(([, at]) => now - at <= REPORT_TTL_MS).map(([by]) => by);
    return reportedBy.length ? { reason: 'heartbeats stopped and other members cannot reach it', phi, reportedBy } : undefined;
  }

  /**
   * Start over for `id` (it was marked down): the outage must not enter its interval history, where
   * it would buy the member minutes of slack after it returns.
   */
  forget(id: string): void {
    this.#phi.forget(id);
    this.#reports.delete(id);
  }
}
