// Quorum calls: run one operation on several replicas in parallel and settle as soon as `need` of
// them succeeded, or fail with ServiceUnavailable (503) as soon as that became impossible or the
// time limit passed. Operations still running after the quorum keep going in the background (so the
// remaining replicas still get the write) for at most another `timeoutMs`; their failures are
// reported to `onLate` for logging.
import { s3Error } from '../util/errors.ts';

export interface QuorumOptions {
  timeoutMs: number;
  what: string;                         // e.g. "chunk 3fa1… write", for the error message
  signal?: AbortSignal;                 // the client went away: fail at once
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
export function writeQuorum(r: number): number { return Math.floor(r / 2) + 1; }
export function readQuorum(r: number): number { return r - writeQuorum(r) + 1; }

export function quorum<T>(targets: string[], need: number, op: (target: string, signal: AbortSignal) => Promise<T>, opts: QuorumOptions): Promise<QuorumOutcome<T>> {
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
      if (err) { ac.abort(err); reject(err); return; }
      resolve(out);
      // Replicas still working get the same time limit again, then are cancelled, so a slow member
      // cannot pin chunk buffers indefinitely (repair brings it up to date later).
      if (out.ok.length + out.failed.length < targets.length) {
        setTimeout(() => ac.abort(new Error(`${opts.what}: replica did not answer within ${opts.timeoutMs} ms after quorum`)), opts.timeoutMs).unref?.();
      }
    };
    const onAbort = () => finish(opts.signal?.reason ?? new Error('aborted'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let timer = setTimeout(() => finish(s3Error('ServiceUnavailable', `${opts.what}: ${out.ok.length} of ${need} replicas answered within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    if (opts.signal?.aborted) return onAbort();   // after `timer` exists: finish() clears it
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
      try { p = op(t, ac.signal); } catch (e) { p = Promise.reject(e); }
      p.then((value) => {
        if (settled) return;
        out.ok.push({ target: t, value });
        if (out.ok.length >= need) reached();
      }, (error) => {
        if (settled) { if (met) opts.onLate?.(t, error); return; }
        out.failed.push({ target: t, error });
        if (out.ok.length >= need) reached();
        else if (targets.length - out.failed.length < need) {
          const reasons = out.failed.map((f) => `${f.target}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ');
          finish(s3Error('ServiceUnavailable', `${opts.what}: ${out.failed.length} of ${targets.length} replicas failed, ${need} needed (${reasons})`, { cause: out.failed[0]?.error }));
        }
      });
    }
  });
}
