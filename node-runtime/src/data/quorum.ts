// Quorum calls: run one operation on several replicas in parallel and settle as soon as `need` of
// them succeeded, or fail with ServiceUnavailable (503) as soon as that became impossible or the
// time limit passed. Operations still running after the quorum keep going in the background (so the
// remaining replicas still get the write) for at most another `timeoutMs`; their failures are
// reported to `onLate` for logging.
import { s3Error } from '../util/errors.ts';

export interface QuorumOptions {
  timeoutMs: number;
  what: string; // e.g. "chunk 3fa1… write", for the error message
  signal?: AbortSignal; // the client went away: fail at once
  onLate?: (target: string, error: unknown) => void;
  /** After the quorum is met, keep collecting answers from the other targets for up to this long
   *  (reads: a replica that is new to the placement may answer "absent" first). Default 0. */
  settleMs?: number;
}

export interface QuorumOutcome<T> {
  ok: { target: string; value: T }[];
  failed: { target: string; error: unknown }[];
}

/** W = ⌊R/2⌋+1; with R' = R - W + 1 reads, W + R' > R so every read quorum meets every write quorum. */
export function writeQuorum(r: number): number {
  return Math.floor(r / 2) + 1;
}
export function readQuorum(r: number): number {
  return r - writeQuorum(r) + 1;
}

export function quorum<T>(
  targets: string[],
  need: number,
  op: (target: string, signal: AbortSignal) => Promise<T>,
  opts: QuorumOptions,
): Promise<QuorumOutcome<T>> {
  return new Promise((resolve, reject) => {
    const out: QuorumOutcome<T> = { ok: [], failed: [] };
    if (targets.length < need) {
      reject(s3Error('ServiceUnavailable', `${opts.what}: only ${targets.length} of the ${need} replicas needed are available`));
      return;
    }
    const ac = new AbortController();
    let settled = false;
    // Only a quorum that was met has replicas failing "after quorum"; once a quorum failed, the
    // replicas still running are cancelled by that failure and have nothing late to report.
    let met = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      met = !err;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        ac.abort(err);
        reject(err);
        return;
      }
      resolve(out);
      // Replicas still working get the same time limit again, then are cancelled, so a slow member
      // cannot pin chunk buffers indefinitely (repair brings it up to date later).
      if (out.ok.length + out.failed.length < targets.length) {
        setTimeout(() => ac.abort(new Error(`${opts.what}: replica did not answer within ${opts.timeoutMs} ms after quorum`)), opts.timeoutMs).unref?.();
      }
    };
    const onAbort = () => finish(opts.signal?.reason ?? new Error('aborted'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let timer = setTimeout(
      () => finish(s3Error('ServiceUnavailable', `${opts.what}: ${out.ok.length} of ${need} replicas answered within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    if (opts.signal?.aborted) return onAbort(); // after `timer` exists: finish() clears it
    let settling = false;
    const reached = () => {
      const all = out.ok.length + out.failed.length === targets.length;
      if (all || !opts.settleMs) return finish();
      if (settling) return;
      settling = true;
      clearTimeout(timer);
      timer = setTimeout(() => finish(), opts.settleMs);
    };
    for (const t of targets) {
      let p: Promise<T>;
      try {
        p = op(t, ac.signal);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (value) => {
          if (settled) return;
          out.ok.push({ target: t, value });
          if (out.ok.length >= need) reached();
        },
        (error) => {
          if (settled) {
            if (met) opts.onLate?.(t, error);
            return;
          }
          out.failed.push({ target: t, error });
          if (out.ok.length >= need) reached();
          else if (targets.length - out.failed.length < need) {
            const reasons = out.failed.map((f) => `${f.target}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ');
            finish(
              s3Error('ServiceUnavailable', `${opts.what}: ${out.failed.length} of ${targets.length} replicas failed, ${need} needed (${reasons})`, {
                cause: out.failed[0]?.error,
              }),
            );
          }
        },
      );
    }
  });
}

export interface HandoffOptions extends QuorumOptions {
  /** A write that has not answered within this long gets a stand-in; it keeps running meanwhile. */
  hedgeMs: number;
  /** Told of each target that left its write unanswered for `hedgeMs` (evidence that it is gone). */
  onSilent?: (target: string) => void;
  /** Told once, when every write started has finished and none will start: how many stored the item. */
  onSettled?: (outcome: { started: number; stored: number }) => void;
}

/**
 * Store an item on `want` members of `order`, acknowledged at `need`: a sloppy quorum with hinted
 * handoff. The first `want` members of the order are written at once. A write that fails, or gives
 * no answer within `hedgeMs` (a stopped process takes connections and never answers), gets a stand-in:
 * the next member of the order not yet written; the silent one keeps running in case it answers.
 * Resolves as soon as `need` writes succeeded, and fails with 503 as soon as that became impossible
 * (the order ran out) or `timeoutMs` passed. After the quorum, stand-ins keep going until `want`
 * copies are stored; then any write still running is cancelled (a copy elsewhere stands in for it),
 * and whatever still runs `timeoutMs` after the quorum is cancelled too. Copies on stand-ins are
 * misplaced by design: repair moves them to the members placement wants once those answer.
 */
export function handoffQuorum<T>(
  order: string[],
  want: number,
  need: number,
  op: (target: string, signal: AbortSignal) => Promise<T>,
  opts: HandoffOptions,
): Promise<QuorumOutcome<T>> {
  return new Promise((resolve, reject) => {
    const out: QuorumOutcome<T> = { ok: [], failed: [] };
    if (order.length < need) {
      reject(s3Error('ServiceUnavailable', `${opts.what}: only ${order.length} of the ${need} replicas needed are available`));
      opts.onSettled?.({ started: 0, stored: 0 });
      return;
    }
    const running = new Map<string, AbortController>();
    const silent = new Set<string>();
    const cancelled = new Set<string>();
    let next = 0;
    let started = 0;
    let stored = 0; // writes that succeeded, also after the quorum failed
    let state: 'pending' | 'met' | 'failed' = 'pending';
    let closed = false; // no write starts any more
    let lateTimer: NodeJS.Timeout | undefined;
    const cancel = (t: string, reason: unknown, quiet: boolean) => {
      if (quiet) cancelled.add(t);
      running.get(t)?.abort(reason);
    };
    const cancelAll = (reason: unknown, quiet: boolean) => {
      closed = true;
      for (const t of [...running.keys()]) cancel(t, reason, quiet);
    };
    const settleIfDone = () => {
      if (running.size > 0 || (!closed && next < order.length && state !== 'failed' && out.ok.length < want)) return;
      closed = true;
      clearTimeout(lateTimer);
      const cb = opts.onSettled;
      opts.onSettled = undefined;
      cb?.({ started, stored });
    };
    const fail = (err: unknown) => {
      if (state !== 'pending') return;
      state = 'failed';
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      cancelAll(err, true);
      reject(err);
      settleIfDone();
    };
    const succeed = () => {
      if (state !== 'pending') return;
      state = 'met';
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(out);
      lateTimer = setTimeout(
        () => cancelAll(new Error(`${opts.what}: replica did not answer within ${opts.timeoutMs} ms after quorum`), false),
        opts.timeoutMs,
      );
      lateTimer.unref?.();
    };
    // Keep `want` writes that may still succeed: stored ones plus running ones not known to be silent.
    const fill = () => {
      while (!closed && state !== 'failed' && next < order.length && out.ok.length + running.size - silent.size < want) start(order[next++]!);
      if (state === 'pending' && out.ok.length + running.size + (order.length - next) < need) {
        const reasons = out.failed.map((f) => `${f.target}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ');
        fail(
          s3Error(
            'ServiceUnavailable',
            `${opts.what}: ${out.failed.length} of ${started} replicas failed and no member is left to stand in, ${need} needed (${reasons})`,
            { cause: out.failed[0]?.error },
          ),
        );
      }
    };
    const start = (t: string) => {
      const ac = new AbortController();
      running.set(t, ac);
      started++;
      const hedge = setTimeout(() => {
        if (!running.has(t)) return;
        silent.add(t);
        opts.onSilent?.(t);
        fill();
      }, opts.hedgeMs);
      hedge.unref?.();
      let p: Promise<T>;
      try {
        p = op(t, ac.signal);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (value) => {
          clearTimeout(hedge);
          running.delete(t);
          silent.delete(t);
          stored++;
          if (state === 'failed') return settleIfDone();
          out.ok.push({ target: t, value });
          if (out.ok.length >= need) succeed();
          if (out.ok.length >= want) cancelAll(new Error(`${opts.what}: stored on ${want} other replicas`), true);
          settleIfDone();
        },
        (error: unknown) => {
          clearTimeout(hedge);
          running.delete(t);
          silent.delete(t);
          if (!cancelled.has(t)) {
            out.failed.push({ target: t, error });
            if (state === 'met') opts.onLate?.(t, error);
          }
          fill();
          settleIfDone();
        },
      );
    };
    const onAbort = () => fail(opts.signal?.reason ?? new Error('aborted'));
    const timer = setTimeout(
      () => fail(s3Error('ServiceUnavailable', `${opts.what}: ${out.ok.length} of ${need} replicas answered within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    if (opts.signal?.aborted) {
      onAbort();
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    fill();
  });
}
