// Leader election on a coordination.k8s.io Lease (client-go's algorithm): acquire when the lease
// is free or expired, renew every `retryMs`, give up leadership when a renewal has not succeeded
// within `renewDeadlineMs`, and release on shutdown (holder cleared) so the other replica takes
// over at once instead of waiting out the lease. Updates use the resourceVersion for optimistic
// concurrency: two candidates can never both win.
import type { Logger } from '../../../node-runtime/src/util/log.ts';
import { sleep } from '../controller/backoff.ts';
import { collectionPath, isConflict, isNotFound, objectPath, resources, type KubeRest } from './rest.ts';

export interface LeaderElectionOptions {
  rest: KubeRest;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;   // 15 s
  renewDeadlineMs?: number;   // 10 s
  retryMs?: number;           // 2 s
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

// Lease times are MicroTime: RFC 3339 with microseconds.
const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private readonly o: Required<Omit<LeaderElectionOptions, 'log' | 'rest' | 'onStartedLeading' | 'onStoppedLeading'>> & LeaderElectionOptions;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  leading = false;

  constructor(opts: LeaderElectionOptions) {
    this.o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryMs: 2_000, ...opts };
  }

  start(): void { this.loop ??= this.run(); }

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
    let lastRenew = 0;
    while (!this.abort.signal.aborted) {
      let ok = false;
      try { ok = await this.tryAcquireOrRenew(); } catch (e) { this.o.log.warn({ err: String(e) }, 'lease update failed'); }
      if (this.abort.signal.aborted) break;
      const now = Date.now();
      if (ok) {
        lastRenew = now;
        if (!this.leading) { this.leading = true; this.o.log.info({ lease: this.o.name, identity: this.o.identity }, 'became leader'); this.o.onStartedLeading(); }
      } else if (this.leading && now - lastRenew > this.o.renewDeadlineMs) {
        this.leading = false;
        this.o.log.error({ lease: this.o.name }, 'lost leadership (renew deadline passed)');
        this.o.onStoppedLeading();
      }
      await sleep(this.o.retryMs, this.abort.signal);
    }
  }

  private path() { return objectPath(resources.leases, this.o.namespace, this.o.name); }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const durationSeconds = Math.ceil(this.o.leaseDurationMs / 1000);
    let lease: any;
    try {
      lease = await this.o.rest.request('GET', this.path(), { timeoutMs: this.o.renewDeadlineMs });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        await this.o.rest.request('POST', collectionPath(resources.leases, this.o.namespace), {
          timeoutMs: this.o.renewDeadlineMs,
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace },
            spec: { holderIdentity: this.o.identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 } },
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false;   // someone else created it first
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    const holder: string = spec.holderIdentity ?? '';
    const renewedAt = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = !holder || renewedAt + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 < now.getTime();
    if (holder !== this.o.identity && !expired) return false;
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
      await this.o.rest.request('PUT', this.path(), { body: next, timeoutMs: this.o.renewDeadlineMs });   // carries metadata.resourceVersion
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  private async release(): Promise<void> {
    const lease = await this.o.rest.request('GET', this.path(), { timeoutMs: 5_000 });
    if (lease.spec?.holderIdentity !== this.o.identity) return;
    await this.o.rest.request('PUT', this.path(), {
      timeoutMs: 5_000,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) } },
    });
    this.o.log.info({ lease: this.o.name }, 'released lease');
  }
}
