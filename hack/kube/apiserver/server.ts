// The Kubernetes API server emulator: an in-memory apiserver speaking the REST and watch protocol
// over plain HTTP on loopback, good enough for @kubernetes/client-node and kubectl unmodified.
import { createServer, type Server } from 'node:http';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Api } from './api.ts';
import { crdTypes, validateCrd } from './crd.ts';
import { GarbageCollector } from './gc.ts';
import { loadSnapshot, Persister } from './persist.ts';
import { Registry } from './registry.ts';
import { route } from './router.ts';
import { Store, type KObject, type StoreEvent } from './store.ts';
import { logger } from '../../../node-runtime/src/util/log.ts';

const log = logger('kube-apiserver');

export interface ApiServerOptions {
  host?: string;
  port?: number;
  /** Persist the store to this file and reload it at start; omitted = memory only. */
  dataFile?: string;
  /** Events kept for watch replay (older resourceVersions get 410 Gone). Default 5000. */
  watchWindow?: number;
  /** Period of BOOKMARK events on watches that allow them. Default 5 s. */
  bookmarkIntervalMs?: number;
  /** Refuse loopback IPs in Endpoints and EndpointSlices, as a real API server does. */
  refuseLoopbackEndpoints?: boolean;
}

export interface ApiServer {
  url: string;
  host: string;
  port: number;
  writeKubeconfig(path: string, opts?: { namespace?: string }): void;
  close(): Promise<void>;
}

const crdKey = (e: { group: string; resource: string }) => e.group === 'apiextensions.k8s.io' && e.resource === 'customresourcedefinitions';

/** Keep the registry in step with stored CRDs (what the apiextensions controllers do). */
function registerCrd(registry: Registry, crd: KObject, deleted: boolean): void {
  if (deleted) {
    registry.removeCustom(crd.metadata.name!);
    return;
  }
  if (validateCrd(crd).length) return;
  registry.setCustom(crd.metadata.name!, crdTypes(crd));
}

export function kubeconfigYaml(url: string, namespace = 'default'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: cairn-local',
    '  cluster:',
    `    server: ${url}`,
    // client-node refuses plain http unless TLS verification is off (there is no TLS to verify).
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: cairn-local',
    '  user:',
    '    token: cairn-local',
    'contexts:',
    '- name: cairn-local',
    '  context:',
    '    cluster: cairn-local',
    '    user: cairn-local',
    `    namespace: ${namespace}`,
    'current-context: cairn-local',
    '',
  ].join('\n');
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const snapshot = opts.dataFile ? loadSnapshot(opts.dataFile) : undefined;
  const store = new Store({ maxHistory: opts.watchWindow, snapshot });
  store.onListenerError = (err) => log.error({ err }, 'store listener failed');
  const registry = new Registry();
  for (const e of store.entries()) if (crdKey(e)) registerCrd(registry, e.object, false);
  const unsubscribeCrds = store.subscribe((e: StoreEvent) => {
    if (crdKey(e)) registerCrd(registry, e.object, e.type === 'DELETED');
  });
  const api = new Api(registry, store, { refuseLoopbackEndpoints: opts.refuseLoopbackEndpoints });
  const nsType = registry.find('', 'v1', 'namespaces')!;
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    if (!store.get('', 'namespaces', '', name)) api.create(nsType, '', { metadata: { name } }, { fieldManager: 'kube-apiserver' });
  }
  const persister = opts.dataFile ? new Persister(store, opts.dataFile, 300) : undefined;
  const gc = new GarbageCollector(api);
  gc.start();

  let serverAddress = '';
  const openWatches = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    void route({ api, serverAddress, watch: { bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 5000, open: openWatches } }, req, res);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  serverAddress = `${host}:${port}`;
  const url = `http://${host}:${port}`;
  log.info({ url, dataFile: opts.dataFile, objects: store.entries().length }, 'API server listening');

  return {
    url,
    host,
    port,
    writeKubeconfig(path, o = {}) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, kubeconfigYaml(url, o.namespace), { mode: 0o600 });
    },
    async close() {
      gc.stop();
      unsubscribeCrds();
      for (const w of [...openWatches]) if (!w.writableEnded) w.end();
      persister?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
