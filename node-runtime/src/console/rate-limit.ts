// Sign-in rate limits (pure): token buckets keyed by client address and by access key id. A
// guesser is slowed per address; a distributed guesser of one key is slowed per key. Every
// attempt costs a token (success included: the limit is on attempts, not on failures, so a
// burst of valid sign-ins from a script is slowed too, which is harmless for people).
export interface BucketLimit {
  burst: number;
  perMinute: number;
}

export interface SignInLimits {
  perAddress: BucketLimit;
  perKey: BucketLimit;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  perAddress: { burst: 10, perMinute: 10 },
  perKey: { burst: 5, perMinute: 5 },
};

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets for one kind of key; bounded: a full bucket is the same as no bucket, so those go first. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly limit: BucketLimit;
  private readonly maxKeys: number;

  constructor(limit: BucketLimit, maxKeys = 50_000) {
    this.limit = limit;
    this.maxKeys = maxKeys;
  }

  /** Take a token: 0 when allowed, else the milliseconds until one is available. */
  take(key: string, now: number): number {
    const b = this.refill(key, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) * 60_000) / this.limit.perMinute);
  }

  /** The wait without taking a token. */
  peek(key: string, now: number): number {
    const b = this.refill(key, now);
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) * 60_000) / this.limit.perMinute);
  }

  size(): number {
    return this.buckets.size;
  }

  private refill(key: string, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.evict(now);
      b = { tokens: this.limit.burst, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) * this.limit.perMinute) / 60_000);
    b.at = now;
    return b;
  }

  private evict(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.limit.perMinute) / 60_000 >= this.limit.burst) this.buckets.delete(k);
    }
    // Still full (an attack from very many addresses): drop the oldest half rather than grow.
    if (this.buckets.size >= this.maxKeys) {
      let n = Math.floor(this.maxKeys / 2);
      for (const k of this.buckets.keys()) {
        if (n-- <= 0) break;
        this.buckets.delete(k);
      }
    }
  }
}

/** Both limits of a sign-in attempt: the wait in ms (0 = go ahead). Neither bucket is charged when refused. */
export class SignInLimiter {
  private readonly byAddress: TokenBuckets;
  private readonly byKey: TokenBuckets;

  constructor(limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS) {
    this.byAddress = new TokenBuckets(limits.perAddress);
    this.byKey = new TokenBuckets(limits.perKey);
  }

  attempt(address: string, accessKeyId: string, now: number): number {
    const wait = Math.max(this.byAddress.peek(address, now), this.byKey.peek(accessKeyId, now));
    if (wait > 0) return wait;
    this.byAddress.take(address, now);
    this.byKey.take(accessKeyId, now);
    return 0;
  }
}
