// Health endpoints of the cluster port: liveness, readiness, cluster write-quorum health and the
// maintenance probe the operator asks before stopping a node. The verdicts come from callbacks
// owned by the cluster layer; this file only turns them into HTTP answers with a JSON reason,
// and never lets a slow or failing check hang a probe.
import { Router, type Request, type Response } from 'express';
import { logger } from '../util/log.ts';

const log = logger('health');

/** A check's verdict. A bare boolean is accepted too (reason then says only ok / not ok). */
export interface CheckResult {
  ok: boolean;
  reason: string;
  details?: Record<string, unknown>;
}
export type Check = () => CheckResult | boolean | Promise<CheckResult | boolean>;

export interface HealthDeps {
  /** Readiness: this process joined the cluster map (it knows the members and its own entry). */
  joined: Check;
  /** Readiness: the chunk and metadata stores accept writes (disk present, not read-only, not full). */
  storesWritable: Check;
  /** Further readiness checks by name (optional), all must pass. */
  ready?: Record<string, Check>;
  /** Every bucket can reach its write quorum W → 200, else 503. */
  clusterHealth: Check;
  /** This node can stop now without losing availability (every item it holds reaches W elsewhere) → 200, else 412. */
  maintenance: Check;
  /** Time limit for one check (default 2000 ms); a check that takes longer fails with reason "timed out". */
  timeoutMs?: number;
  /**
   * Whether a request carries the cluster secret. Probes (kubelet, load balancers) come without it
   * and get the status and a reason (counts, no names); `details` (bucket names, members) only go to
   * callers that have it. Without this function nobody gets details.
   */
  authorized?: (req: Request) => boolean;
}

/** Run a check with a time limit; exceptions and timeouts become a failed result with the reason. */
export async function runCheck(check: Check, timeoutMs = 2000): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const v = await Promise.race([
      Promise.resolve().then(check),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    if (typeof v === 'boolean') return { ok: v, reason: v ? 'ok' : 'check failed' };
    if (!v || typeof v.ok !== 'boolean') return { ok: false, reason: 'check returned no verdict' };
    return v;
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

function answer(res: Response, status: number, body: Record<string, unknown>): void {
  res.status(status).set('cache-control', 'no-store').json(body);
}

/**
 * The router for `/healthz`, `/readyz`, `/cluster/health` and `/maintenance` (GET; HEAD works too).
 * Mount on the cluster port: `app.use(healthRouter(deps))`. Bodies are JSON:
 *   /healthz         200 { status: 'alive', uptimeSeconds }
 *   /readyz          200 | 503 { status: 'ready' | 'not ready', reason, checks: { name: { ok, reason } } }
 *   /cluster/health  200 | 503 { status: 'healthy' | 'unhealthy', reason, details? }
 *   /maintenance     200 | 412 { status: 'safe' | 'unsafe', reason, details? }  (a check error is 412 too: unknown is unsafe)
 * `details` only with the cluster secret (`authorized`).
 */
export function healthRouter(deps: HealthDeps): Router {
  const timeoutMs = deps.timeoutMs ?? 2000;
  const router = Router();

  router.get('/healthz', (_req: Request, res: Response) => {
    answer(res, 200, { status: 'alive', uptimeSeconds: Math.round(process.uptime()) });
  });

  router.get('/readyz', async (_req: Request, res: Response) => {
    const named: Record<string, Check> = { joined: deps.joined, storesWritable: deps.storesWritable, ...deps.ready };
    const entries = await Promise.all(Object.entries(named).map(async ([name, c]) => [name, await runCheck(c, timeoutMs)] as const));
    const failed = entries.filter(([, r]) => !r.ok);
    const checks = Object.fromEntries(entries.map(([n, r]) => [n, { ok: r.ok, reason: r.reason }]));
    if (failed.length) log.debug({ failed: failed.map(([n]) => n) }, 'not ready');
    answer(res, failed.length ? 503 : 200, {
      status: failed.length ? 'not ready' : 'ready',
      reason: failed.length ? failed.map(([n, r]) => `${n}: ${r.reason}`).join('; ') : 'ok',
      checks,
    });
  });

  const details = (req: Request, r: CheckResult) => (r.details && deps.authorized?.(req) ? { details: r.details } : {});

  router.get('/cluster/health', async (req: Request, res: Response) => {
    const r = await runCheck(deps.clusterHealth, timeoutMs);
    answer(res, r.ok ? 200 : 503, { status: r.ok ? 'healthy' : 'unhealthy', reason: r.reason, ...details(req, r) });
  });

  router.get('/maintenance', async (req: Request, res: Response) => {
    const r = await runCheck(deps.maintenance, timeoutMs);
    answer(res, r.ok ? 200 : 412, { status: r.ok ? 'safe' : 'unsafe', reason: r.reason, ...details(req, r) });
  });

  return router;
}
