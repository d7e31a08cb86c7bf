// A real redis-server for tests (Debian's package), on a loopback address and port of the caller's
// choosing, with persistence off. stop() and start() take it down and bring it back on the same
// address (an outage); it keeps no data across that, as a restarted cache would not.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { loopbackAddress, freePort, waitFor } from './net.ts';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisServer {
  host: string;
  port: number;
  address: string; // host:port
  /** Kill it (SIGKILL: an outage, not a shutdown) and wait until it is gone. */
  stop(): Promise<void>;
  /** Start it again on the same address; resolves once it answers PING. */
  start(): Promise<void>;
}

function pingOnce(host: string, port: number, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let out = '';
    const finish = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => finish(false));
    s.on('error', () => finish(false));
    s.on('connect', () => s.write((password ? `AUTH ${password}\r\n` : '') + 'PING\r\n'));
    s.on('data', (d) => {
      out += d;
      if (out.includes('+PONG')) finish(true);
      else if (out.includes('-')) finish(false);
    });
  });
}

export async function startRedis(opts: { password?: string } = {}): Promise<RedisServer> {
  const host = loopbackAddress();
  const port = await freePort(host);
  // Bound to loopback only, so protected mode (which admits 127.0.0.1 alone) can go.
  const args = [
    '--bind',
    host,
    '--port',
    String(port),
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
    '--loglevel',
    'warning',
    ...(opts.password ? ['--requirepass', opts.password] : []),
  ];
  let proc: ChildProcess | undefined;
  const server: RedisServer = {
    host,
    port,
    address: `${host}:${port}`,
    async start() {
      if (proc) return;
      const p = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      proc = p;
      p.once('exit', () => {
        if (proc === p) proc = undefined;
      });
      await waitFor(() => pingOnce(host, port, opts.password), { timeoutMs: 10_000, what: `redis-server on ${host}:${port}` });
    },
    async stop() {
      const p = proc;
      if (!p) return;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    },
  };
  await server.start();
  return server;
}
