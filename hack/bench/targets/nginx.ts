// nginx from Debian as the HTTP anchor: static files for GET/HEAD and WebDAV PUT for uploads, run
// as a child with its own config and directories in a temp dir, on a loopback port. The bench
// installs it with apt when it is missing (nginx-light carries the DAV module).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../testing/net.ts';
import { answers, childPids, spawnChild, waitServing } from './proc.ts';
import type { RunningTarget } from './types.ts';

function hasDav(): boolean {
  try {
    // nginx -V prints its build options on stderr.
    return /http_dav_module/.test(execFileSync('sh', ['-c', 'nginx -V 2>&1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return false;
  }
}

/** Make sure an nginx with the DAV module is on PATH, installing nginx-light with apt if needed. */
export function ensureNginx(log: (s: string) => void): void {
  if (hasDav()) return;
  log('nginx with the DAV module not found: installing nginx-light with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const asRoot = process.getuid?.() === 0;
  const run = (args: string[]) =>
    execFileSync(asRoot ? 'apt-get' : 'sudo', asRoot ? args : ['-n', 'apt-get', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  try {
    run(['install', '-y', '-q', 'nginx-light']);
  } catch {
    run(['update', '-q']);
    run(['install', '-y', '-q', 'nginx-light']);
  }
  if (!hasDav()) throw new Error('nginx installed but without http_dav_module');
}

/** nginx.conf for the bench: one worker (the Cairn node is one process too), no access log,
 *  keep-alive without a request cap, PUT bodies of any size. */
export function nginxConfig(dir: string, host: string, port: number, workers: number, asRoot: boolean): string {
  return `${asRoot ? 'user root root;\n' : ''}daemon off;
worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_max_body_size 0;
  client_body_buffer_size 1m;
  client_body_temp_path ${dir}/www/.tmp;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;
  types { application/octet-stream bin; }
  default_type application/octet-stream;
  server {
    listen ${host}:${port};
    root ${dir}/www;
    location / {
      dav_methods PUT DELETE;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
`;
}

export async function startNginx(dir: string, host: string, opts: { workers?: number; log: (s: string) => void }): Promise<RunningTarget> {
  ensureNginx(opts.log);
  const port = await freePort(host);
  mkdirSync(join(dir, 'www/.tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, host, port, opts.workers ?? 1, process.getuid?.() === 0));
  const child = spawnChild('nginx', 'nginx', ['-p', dir, '-c', conf]);
  const endpoint = `http://${host}:${port}`;
  await waitServing(child, () => answers(endpoint + '/'), 15_000);
  return {
    spec: { name: 'nginx', kind: 'http', endpoints: [endpoint], bucket: 'bench' },
    pids: () => [child.pid, ...childPids(child.pid)],
    async stop() {
      // Graceful quit; workers that outlive a killed master are ours to end too.
      const workers = childPids(child.pid);
      await child.stop('SIGQUIT');
      for (const pid of workers) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    },
  };
}
