// Loading the kubeconfig, and one connection pool per API server for everything that talks to it.
//
// client-node 2.x builds a new undici Agent inside every `applySecurityAuthentication` call (that
// is, for every request and every watch) whenever the cluster has TLS options — a CA, a client
// certificate, or insecure-skip-tls-verify. Each such Agent keeps its connection open for the
// server's keep-alive period and is never closed: a loop of small requests piles up sockets
// (19,754 to the local API server, whose keep-alive is 60 s, before it failed with EMFILE). So the
// KubeConfig here hands every request the same Agent per (cluster, user), as client-node itself
// already does for its WebSocket agents, and `close()` ends them.
//
// client-node also refuses plain http:// servers unless the cluster entry has
// insecure-skip-tls-verify (kubectl does not care); for an http server that flag changes nothing
// about security (there is no TLS to verify), so it is set here for such clusters only.
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';
import { RetryAgent, type Dispatcher } from 'undici';

// A pooled connection can be dead by the time it is reused (the API server restarted or closed
// it while idle): a request sent on it fails before any answer. As Go's transport (and so
// client-go) does, such a request is sent again on a new connection — only for methods that are
// safe to repeat, and never on an HTTP answer (a 409 or 503 is the server's word, not a glitch).
const RETRY = {
  maxRetries: 2,
  minTimeout: 50,
  maxTimeout: 500,
  timeoutFactor: 4,
  methods: ['GET', 'HEAD', 'PUT', 'DELETE'] as Dispatcher.HttpMethod[],
  statusCodes: [] as number[],
  errorCodes: ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNREFUSED'],
};

export class PooledKubeConfig extends KubeConfig {
  private readonly pools = new Map<string, Dispatcher>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher() as Dispatcher | undefined;
    if (!fresh) return; // no TLS options: fetch's global dispatcher, which pools by itself
    // Keyed as client-node keys its own agent cache, plus the server (a kubeconfig can be reloaded).
    const key = JSON.stringify([this.getCurrentCluster()?.name, this.getCurrentCluster()?.server, this.getCurrentUser()?.name]);
    const pooled = this.pools.get(key);
    if (pooled) {
      context.setDispatcher(pooled);
      void fresh.close(); // never connected; closing frees nothing but is the honest end of it
    } else {
      const pool = new RetryAgent(fresh, RETRY);
      this.pools.set(key, pool);
      context.setDispatcher(pool);
    }
  }

  /** How many pools are open (one per cluster and user in use). */
  get poolCount(): number {
    return this.pools.size;
  }

  /** Close every pooled connection (in-flight requests finish first). */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close().catch(() => p.destroy())));
  }
}

export function loadKubeConfig(path?: string): PooledKubeConfig {
  const kc = new PooledKubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (kc.clusters.some((c) => c.server.startsWith('http://') && !c.skipTLSVerify)) {
    kc.loadFromOptions({
      clusters: kc.clusters.map((c) => (c.server.startsWith('http://') ? { ...c, skipTLSVerify: true } : c)),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
  }
  return kc;
}
