// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection package does it:
// - a candidate reads the Lease every retry period (with jitter) and takes it when it is free or
//   has not changed for a whole lease duration *as measured on the candidate's own clock* (the
//   time it last saw the record change, never the holder's renewTime: clocks of two nodes differ);
// - the leader renews every retry period by updating the Lease it last saw (no read first; a
//   conflict falls back to a read), and gives up leading when no renewal has succeeded for the
//   renew deadline, which is shorter than the lease duration, so it stops before anyone else can
//   start;
// - on shutdown the leader releases the Lease (holder cleared) so the standby takes over at once.
// Updates carry the resourceVersion: two candidates can never both win.
import type { Logger } from '../../../node-runtime/src/util/log.ts';
import { sleep } from '../controller/backoff.ts';
import { collectionPath, isConflict, isNotFound, objectPath, resources, type KubeRest } from './rest.ts';

/** client-go's and controller-runtime's defaults. */
export const DEFAULT_LEASE_TIMINGS: LeaseTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryMs: 2_000 };
/** A candidate waits retry × (1 + up to JITTER) between reads. */
export const JITTER = 0.2;

export interface LeaseTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryMs: number;
}

/** Timings from whatever was given, defaults for the rest; an explicit `undefined` is "not given".
 *  Refuses timings with which two leaders could overlap, as client-go does. */
export function leaseTimings(given: Partial<LeaseTimings> = {}): LeaseTimings {
  const t = { ...DEFAULT_LEASE_TIMINGS };
  for (const k of Object.keys(t) as (keyof LeaseTimings)[]) if (given[k] !== undefined) t[k] = given[k]!;
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`leader election: ${k} must be a positive number of milliseconds, got ${v}`);
  }
  if (t.leaseDurationMs <= t.renewDeadlineMs)
    throw new Error(`leader election: the lease duration (${t.leaseDurationMs} ms) must be longer than the renew deadline (${t.renewDeadlineMs} ms)`);
  if (t.renewDeadlineMs <= t.retryMs * (1 + JITTER))
    throw new Error(
      `leader election: the renew deadline (${t.renewDeadlineMs} ms) must be longer than the retry period with jitter (${t.retryMs} × ${1 + JITTER})`,
    );
  return t;
}

export interface LeaderElectionOptions extends Partial<LeaseTimings> {
  rest: KubeRest;
  namespace: string;
  name: string;
  identity: string;
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

// Lease times are MicroTime: RFC 3339 with microseconds.
const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

interface Lease {
  metadata: { resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
  [k: string]: unknown;
}
interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export class LeaderElector {
  readonly timings: LeaseTimings;
  private readonly o: LeaderElectionOptions;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  /** The Lease as last read or written, and when (on this clock) its record last changed. */
  private observed?: Lease;
  private observedAt = 0;
  leading = false;

  constructor(opts: LeaderElectionOptions) {
    this.o = opts;
    this.timings = leaseTimings(opts);
  }

  get name(): string {
    return this.o.name;
  }
  get namespace(): string {
    return this.o.namespace;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stop campaigning; release the lease if held. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.leading) {
      this.leading = false;
      await this.release().catch((e) => this.o.log.warn({ err: String(e) }, 'could not release lease'));
      this.o.onStoppedLeading();
    }
  }

  private async run(): Promise<void> {
    const { retryMs, renewDeadlineMs, leaseDurationMs } = this.timings;
    let lastRenew = 0;
    while (!this.abort.signal.aborted) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (e) {
        this.o.log.warn({ err: String(e), lease: this.o.name }, 'lease update failed');
      }
      if (this.abort.signal.aborted) break;
      const now = Date.now();
      if (ok) {
        lastRenew = now;
        if (!this.leading) {
          this.leading = true;
          this.o.log.info({ lease: this.o.name, identity: this.o.identity }, 'became leader');
          this.o.onStartedLeading();
        }
      } else if (this.leading && now - lastRenew > renewDeadlineMs) {
        this.leading = false;
        this.o.log.error({ lease: this.o.name }, 'lost leadership (renew deadline passed)');
        this.o.onStoppedLeading();
      }
      // A leader renews on the retry period; a candidate reads with jitter (so that candidates
      // spread out) and wakes up right when the Lease it watches would expire.
      let wait = this.leading ? retryMs : retryMs * (1 + Math.random() * JITTER);
      if (!this.leading && this.observed?.spec?.holderIdentity) {
        const expiresIn = this.observedAt + leaseDurationMs - now;
        if (expiresIn > 0) wait = Math.min(wait, expiresIn + 10);
      }
      await sleep(wait, this.abort.signal);
    }
  }

  private path() {
    return objectPath(resources.leases, this.o.namespace, this.o.name);
  }

  private timeoutMs(): number {
    return Math.min(this.timings.renewDeadlineMs, 10_000);
  }

  /** Note what was read or written; the clock starts again only when the record changed. */
  private observe(lease: Lease, now: number): void {
    const a = this.observed?.spec;
    const b = lease.spec;
    if (!a || a.holderIdentity !== b?.holderIdentity || a.renewTime !== b?.renewTime || a.leaseTransitions !== b?.leaseTransitions) this.observedAt = now;
    this.observed = lease;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const durationSeconds = Math.ceil(this.timings.leaseDurationMs / 1000);
    // Fast path (client-go ≥ 1.28): the leader updates the Lease it wrote last, without a read.
    if (this.leading && this.observed?.spec?.holderIdentity === this.o.identity) {
      try {
        const next = { ...this.observed, spec: { ...this.observed.spec, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) } };
        this.observe(await this.o.rest.request('PUT', this.path(), { body: next, timeoutMs: this.timeoutMs() }), now.getTime());
        return true;
      } catch (e) {
        if (!isConflict(e)) throw e; // someone wrote it: read it and decide again
      }
    }
    let lease: Lease;
    try {
      lease = await this.o.rest.request('GET', this.path(), { timeoutMs: this.timeoutMs() });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        const created = await this.o.rest.request<Lease>('POST', collectionPath(resources.leases, this.o.namespace), {
          timeoutMs: this.timeoutMs(),
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.o.name, namespace: this.o.namespace },
            spec: {
              holderIdentity: this.o.identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: 0,
            },
          },
        });
        this.observe(created, now.getTime());
        return true;
      } catch (err) {
        if (isConflict(err)) return false; // someone else created it first
        throw err;
      }
    }
    this.observe(lease, now.getTime());
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    // Valid for the duration the holder announced, counted from when *we* saw it change.
    const validForMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    const held = holder !== '' && this.observedAt + validForMs > now.getTime();
    if (holder !== this.o.identity && held) return false;
    const takeover = holder !== this.o.identity;
    const next = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.o.identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        ...(takeover ? { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
      },
    };
    try {
      this.observe(await this.o.rest.request('PUT', this.path(), { body: next, timeoutMs: this.timeoutMs() }), now.getTime()); // carries metadata.resourceVersion
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  private async release(): Promise<void> {
    const lease: Lease = await this.o.rest.request('GET', this.path(), { timeoutMs: 5_000 });
    if (lease.spec?.holderIdentity !== this.o.identity) return;
    await this.o.rest.request('PUT', this.path(), {
      timeoutMs: 5_000,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) } },
    });
    this.o.log.info({ lease: this.o.name }, 'released lease');
  }
}
