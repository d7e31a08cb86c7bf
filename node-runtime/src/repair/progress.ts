// Repair progress as people read it: bytes moved, the current rate (an exponentially weighted
// moving average, so one slow copy does not swing the ETA) and the time left at that rate.
export class RepairProgress {
  bytesMoved = 0;
  private rate = 0; // bytes/s, smoothed
  private windowStart: number;
  private windowBytes = 0;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(opts: { windowMs?: number; now?: () => number } = {}) {
    this.windowMs = opts.windowMs ?? 2_000;
    this.now = opts.now ?? Date.now;
    this.windowStart = this.now();
  }

  /** Record `bytes` copied just now. */
  moved(bytes: number): void {
    this.bytesMoved += bytes;
    this.windowBytes += bytes;
    this.roll();
  }

  private roll(): void {
    const t = this.now();
    const elapsed = t - this.windowStart;
    if (elapsed < this.windowMs) return;
    const sample = (this.windowBytes * 1000) / elapsed;
    this.rate = this.rate === 0 ? sample : 0.5 * this.rate + 0.5 * sample;
    this.windowStart = t;
    this.windowBytes = 0;
  }

  /** Smoothed bytes per second (decays to 0 when nothing moves). */
  rateBytesPerSec(): number {
    this.roll();
    return Math.round(this.rate);
  }

  /** Seconds left for `bytesRemaining` at the current rate; null when idle or unknown. */
  etaSeconds(bytesRemaining: number): number | null {
    if (bytesRemaining <= 0) return 0;
    const r = this.rateBytesPerSec();
    return r > 0 ? Math.ceil(bytesRemaining / r) : null;
  }
}
