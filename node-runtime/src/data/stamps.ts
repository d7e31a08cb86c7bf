// The stamps a coordinator gives its writes: a time (ms, fractional) strictly later than any it gave
// before, and later than a change a replica reported (a write refused as stale is stamped again past
// it, data/metadata.ts), so one coordinator's writes of a key are ordered as it made them.
export class WriteStamps {
  private last = 0;

  /** A stamp later than every one issued here before and than `after` (ms) when given. */
  next(after = 0): number {
    const now = performance.timeOrigin + performance.now();
    this.last = Math.max(now, this.last + 0.001, after + 0.001);
    return this.last;
  }
}
