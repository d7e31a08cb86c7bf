// A token bucket: limits background work (repair, scrub) to a byte rate that can be changed at run
// time. `take(n)` waits until n bytes may pass; a rate of 0 means unlimited.
export class TokenBucket {
  private tokens: number;
  private last: number;
  private rate: number;
  private readonly now: () => number;

  constructor(bytesPerSec: number, opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.rate = bytesPerSec;
    this.tokens = bytesPerSec;
    this.last = this.now();
  }

  setRate(bytesPerSec: number): void {
    this.refill();
    this.rate = bytesPerSec;
    this.tokens = Math.min(this.tokens, bytesPerSec);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.rate, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }

  /** Milliseconds to wait before `bytes` may pass; the bytes are taken (debt allowed, so big items still pass). */
  reserve(bytes: number): number {
    if (this.rate <= 0) return 0;
    this.refill();
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const wait = this.reserve(bytes);
    if (wait > 0)
      await new Promise<void>((res) => {
        const t = setTimeout(res, wait);
        signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            res();
          },
          { once: true },
        );
      });
  }
}
