// Shared informers for the controllers of one process (client-go's SharedInformerFactory): one
// list+watch cache per resource however many controllers read it, each controller adding its
// handlers. The cache is the operator's Watcher (operator/src/kube/watcher.ts), so the emulator and
// the operator run the same list-watch code.
import type { ResourceRef } from '../../../operator/src/kube/rest.ts';
import { Watcher, type KubeObject, type WatchHandler } from '../../../operator/src/kube/watcher.ts';
import type { Clients } from './client.ts';

/** Where the built-in kinds the local control plane watches live in the REST API. */
export const kinds = {
  pods: { group: '', version: 'v1', plural: 'pods', namespaced: true },
  services: { group: '', version: 'v1', plural: 'services', namespaced: true },
  endpoints: { group: '', version: 'v1', plural: 'endpoints', namespaced: true },
  secrets: { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  configmaps: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  persistentvolumeclaims: { group: '', version: 'v1', plural: 'persistentvolumeclaims', namespaced: true },
  nodes: { group: '', version: 'v1', plural: 'nodes', namespaced: false },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true },
  statefulsets: { group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true },
  deployments: { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  replicasets: { group: 'apps', version: 'v1', plural: 'replicasets', namespaced: true },
  controllerrevisions: { group: 'apps', version: 'v1', plural: 'controllerrevisions', namespaced: true },
} satisfies Record<string, ResourceRef>;

type Resource = keyof typeof kinds;

export class Informers {
  private readonly c: Clients;
  private readonly all = new Map<Resource, Watcher>();
  private started = false;

  constructor(c: Clients) {
    this.c = c;
  }

  /** The shared cache of a resource (all namespaces); `onChange` is added as one more handler. */
  informer(resource: Resource, onChange?: WatchHandler, onSync?: () => void): Watcher {
    let w = this.all.get(resource);
    if (!w) {
      w = new Watcher({ kc: this.c.kc, resource: kinds[resource] });
      this.all.set(resource, w);
      if (this.started) w.start();
    }
    if (onChange || onSync) w.addHandler(onChange ?? (() => {}), onSync);
    return w;
  }

  start(): void {
    this.started = true;
    for (const w of this.all.values()) w.start();
  }
  async stop(): Promise<void> {
    await Promise.all([...this.all.values()].map((w) => w.stop()));
  }
}

export type { KubeObject };
