// One probe attempt (httpGet, tcpSocket, exec) as the kubelet runs it, plus the threshold logic
// (initialDelaySeconds, periodSeconds, timeoutSeconds, success/failureThreshold) as a small prober.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

export interface ProbeTarget {
  podIP: string;
  containerPorts: { name?: string; containerPort: number }[];
  exec?: { file: string; args: string[]; env: Record<string, string>; cwd?: string };
}

export function probePort(port: number | string, target: ProbeTarget): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = target.containerPorts.find((p) => p.name === port);
  if (!named) throw new Error(`probe names port "${port}" that the container does not declare`);
  return named.containerPort;
}

/** Run one attempt; resolves true on success. Never rejects. */
export async function probeOnce(probe: any, target: ProbeTarget): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.httpGet) {
      const g = probe.httpGet;
      const port = probePort(g.port, target);
      const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.32' };
      for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
      const fn = g.scheme === 'HTTPS' ? httpsRequest : request;
      return await new Promise<boolean>((resolve) => {
        const req = fn(
          { host: g.host ?? target.podIP, port, path: g.path ?? '/', method: 'GET', headers, timeout: timeoutMs, rejectUnauthorized: false },
          (res) => {
            res.resume();
            resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
          },
        );
        req.on('timeout', () => {
          req.destroy();
          resolve(false);
        });
        req.on('error', () => resolve(false));
        req.end();
      });
    }
    if (probe.tcpSocket) {
      const port = probePort(probe.tcpSocket.port, target);
      return await new Promise<boolean>((resolve) => {
        const s = connect({ host: probe.tcpSocket.host ?? target.podIP, port, timeout: timeoutMs });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('timeout', () => {
          s.destroy();
          resolve(false);
        });
        s.once('error', () => resolve(false));
      });
    }
    if (probe.exec && target.exec) {
      const { file, args, env, cwd } = target.exec;
      return await new Promise<boolean>((resolve) => {
        const child = spawn(file, args, { env, cwd, stdio: 'ignore' });
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(false);
        }, timeoutMs);
        child.on('error', () => {
          clearTimeout(t);
          resolve(false);
        });
        child.on('exit', (code) => {
          clearTimeout(t);
          resolve(code === 0);
        });
      });
    }
    return false; // grpc probes are not emulated
  } catch {
    return false;
  }
}

export type ProbeResult = 'success' | 'failure';

/** Runs a probe on its period and reports each threshold crossing. */
export class Prober {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  private readonly probe: any;
  private readonly target: () => ProbeTarget;
  private readonly onResult: (r: ProbeResult) => void;
  private readonly periodMs: number;
  private readonly failureThreshold: number;

  /** `maxPeriodMs` probes more often (fast tests); with `keepFailureWindow` (liveness, startup: they
   *  kill) the failure threshold grows so a container still gets failureThreshold × periodSeconds. */
  constructor(probe: any, target: () => ProbeTarget, onResult: (r: ProbeResult) => void, maxPeriodMs?: number, keepFailureWindow = false) {
    this.probe = probe;
    this.target = target;
    this.onResult = onResult;
    const period = (probe.periodSeconds ?? 10) * 1000;
    this.periodMs = maxPeriodMs ? Math.min(period, maxPeriodMs) : period;
    const threshold = probe.failureThreshold ?? 3;
    this.failureThreshold = keepFailureWindow ? Math.ceil((threshold * period) / this.periodMs) : threshold;
    const delay = (probe.initialDelaySeconds ?? 0) * 1000;
    this.schedule(maxPeriodMs && !keepFailureWindow ? Math.min(delay, maxPeriodMs) : delay);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    const ok = await probeOnce(this.probe, this.target());
    if (this.stopped) return;
    if (ok) {
      this.failures = 0;
      if (++this.successes >= (this.probe.successThreshold ?? 1)) this.onResult('success');
    } else {
      this.successes = 0;
      if (++this.failures >= this.failureThreshold) this.onResult('failure');
    }
    this.schedule(this.periodMs);
  }
}
