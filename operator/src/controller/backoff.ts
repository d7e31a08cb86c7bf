// The one exponential backoff of the operator and of the local control plane in hack/kube: work-queue
// retries, watch restarts, and (without jitter, as the kubelet does) the process kubelet's crash-loop
// and volume-setup retries. Default: kube-rs' watcher, 0.8 s doubling to 30 s with ±20 % jitter.
// Pure; `random` is injectable for tests.
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  jitter?: number;
}

/** Delay before retry number `attempt` (1 = first retry). Jitter spreads ±`jitter` of the delay. */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = opts.baseMs ?? 800;
  const max = opts.maxMs ?? 30_000;
  const jitter = opts.jitter ?? 0.2;
  const raw = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw * (1 - jitter + 2 * jitter * random()));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
