// Shared informers for the controllers of one process (client-go's SharedInformerFactory): one
// list+watch per resource however many controllers read it, each controller adding its handlers.
import type { Clients } from './client.ts';
import { Reflector, type ChangeHandler, type KubeObject } from './reflector.ts';

type Resource = 'pods' | 'services' | 'endpoints' | 'endpointslices' | 'persistentvolumeclaims' | 'nodes'
  | 'statefulsets' | 'deployments' | 'replicasets' | 'controllerrevisions';

export class Informers {
  private readonly c: Clients;
  private readonly all = new Map<Resource, Reflector>();
  private started = false;

  constructor(c: Clients) { this.c = c; }

  /** The shared cache of a resource (all namespaces); `onChange` is added as one more handler. */
  informer(resource: Resource, onChange?: ChangeHandler, onSync?: () => void): Reflector {
    let r = this.all.get(resource);
    if (!r) {
      r = new Reflector({ kubeConfig: this.c.kc, ...this.source(resource) });
      this.all.set(resource, r);
      if (this.started) r.start();
    }
    if (onChange || onSync) r.addHandler(onChange ?? (() => {}), onSync);
    return r;
  }

  start(): void { this.started = true; for (const r of this.all.values()) r.start(); }
  async stop(): Promise<void> { await Promise.all([...this.all.values()].map((r) => r.stop())); }

  private source(resource: Resource): { path: string; list: () => Promise<{ items: unknown[]; metadata?: { resourceVersion?: string } }>; labelSelector?: string } {
    const { core, apps, discovery } = this.c;
    switch (resource) {
      case 'pods': return { path: '/api/v1/pods', list: () => core.listPodForAllNamespaces() };
      case 'services': return { path: '/api/v1/services', list: () => core.listServiceForAllNamespaces() };
      case 'endpoints': return { path: '/api/v1/endpoints', list: () => core.listEndpointsForAllNamespaces() };
      case 'persistentvolumeclaims': return { path: '/api/v1/persistentvolumeclaims', list: () => core.listPersistentVolumeClaimForAllNamespaces() };
      case 'nodes': return { path: '/api/v1/nodes', list: () => core.listNode() };
      case 'endpointslices': return { path: '/apis/discovery.k8s.io/v1/endpointslices', list: () => discovery.listEndpointSliceForAllNamespaces() };
      case 'statefulsets': return { path: '/apis/apps/v1/statefulsets', list: () => apps.listStatefulSetForAllNamespaces() };
      case 'deployments': return { path: '/apis/apps/v1/deployments', list: () => apps.listDeploymentForAllNamespaces() };
      case 'replicasets': return { path: '/apis/apps/v1/replicasets', list: () => apps.listReplicaSetForAllNamespaces() };
      case 'controllerrevisions': return { path: '/apis/apps/v1/controllerrevisions', list: () => apps.listControllerRevisionForAllNamespaces() };
    }
  }
}

export type { KubeObject };
