// Endpoints controller shell: keeps one v1 Endpoints object per selector Service in line with the
// pods (endpoints.ts computes it), and the EndpointSlices that mirror it, with plain create/replace
// (optimistic concurrency on replace) and deletes when the Service goes, as kube-controller-manager's
// endpoints and endpointslice controllers do.
import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { Clients } from './client.ts';
import { isAlreadyExists, isNotFound, stableJson } from './client.ts';
import type { Informers, KubeObject } from './informers.ts';
import { controllerLoop, workQueue } from './controller-loop.ts';
import type { ReconcileResult } from '../../../operator/src/controller/queue.ts';
import { endpointSlicesFor, endpointsFor, selectsPod, SERVICE_NAME_LABEL, SLICE_MANAGER, SLICE_MANAGER_LABEL } from './endpoints.ts';
import type { Controller } from './statefulset-controller.ts';

export function endpointsController(c: Clients, informers: Informers, resyncMs = 30_000): Controller {
  const queue = workQueue('endpoints');
  const key = (o: KubeObject) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
  const services = informers.informer('services', (_k, o) => queue.add(key(o)));
  const pods = informers.informer('pods', (_k, o, old) => {
    for (const s of services.list()) if (selectsPod(s, o) || (old && selectsPod(s, old))) queue.add(key(s));
  });
  const endpoints = informers.informer('endpoints', (_k, o) => queue.add(key(o)));
  const ours = (o: KubeObject) => o.metadata.labels?.[SLICE_MANAGER_LABEL] === SLICE_MANAGER;
  const slices = informers.informer('endpointslices', (_k, o) => {
    const svc = o.metadata.labels?.[SERVICE_NAME_LABEL];
    if (svc && ours(o)) queue.add(`${o.metadata.namespace}/${svc}`);
  });

  async function syncSlices(namespace: string, service: string, want: KubeObject[]): Promise<void> {
    const have = slices.list().filter((x) => ours(x) && x.metadata.namespace === namespace && x.metadata.labels?.[SERVICE_NAME_LABEL] === service);
    for (const w of want) {
      const h = have.find((x) => x.metadata.name === w.metadata.name);
      if (!h) {
        try {
          await c.discovery.createNamespacedEndpointSlice({ namespace, body: w as unknown as V1EndpointSlice });
        } catch (e) {
          if (!isAlreadyExists(e)) throw e;
        }
      } else if (stableJson([h.endpoints ?? [], h.ports ?? [], h.metadata.labels]) !== stableJson([w.endpoints, w.ports, w.metadata.labels])) {
        await c.discovery.replaceNamespacedEndpointSlice({
          namespace,
          name: h.metadata.name,
          body: { ...w, metadata: { ...h.metadata, labels: w.metadata.labels } } as unknown as V1EndpointSlice,
        });
      }
    }
    for (const h of have) {
      if (want.some((w) => w.metadata.name === h.metadata.name)) continue;
      try {
        await c.discovery.deleteNamespacedEndpointSlice({ namespace, name: h.metadata.name });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  const enqueueAll = () => {
    for (const s of services.list()) queue.add(key(s));
  };
  const loop = controllerLoop({ caches: [services, pods, endpoints, slices], queues: [[queue, reconcile]], enqueueAll, resyncMs });

  async function reconcile(k: string): Promise<ReconcileResult | void> {
    const [namespace, name] = k.split('/');
    const svc = services.get(k);
    const current = endpoints.get(k);
    if (!svc) {
      // Only Endpoints we derived (the Service had a selector) are ours to remove; we mark them.
      if (current?.metadata.labels?.['endpoints.cairn.dev/managed-by'] === 'endpoint-controller') {
        try {
          await c.core.deleteNamespacedEndpoints({ namespace, name });
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
      await syncSlices(namespace, name, []);
      return;
    }
    const desired = endpointsFor(
      svc,
      pods.list().filter((p) => p.metadata.namespace === namespace),
    );
    if (!desired) return;
    await syncSlices(namespace, name, endpointSlicesFor(svc, desired));
    desired.metadata.labels = { ...(desired.metadata.labels ?? {}), 'endpoints.cairn.dev/managed-by': 'endpoint-controller' };
    if (!current) {
      try {
        await c.core.createNamespacedEndpoints({ namespace, body: desired as object });
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        return { requeueAfterMs: 200 };
      }
      return;
    }
    if (
      stableJson(current.subsets ?? []) === stableJson(desired.subsets ?? []) &&
      stableJson(current.metadata.labels ?? {}) === stableJson(desired.metadata.labels)
    )
      return;
    const body = { ...current, subsets: desired.subsets ?? [], metadata: { ...current.metadata, labels: desired.metadata.labels } };
    if (!desired.subsets) delete body.subsets;
    await c.core.replaceNamespacedEndpoints({ namespace, name, body: body as object }); // 409 → retried with backoff on a fresher cache
  }

  return {
    async start() {
      await loop.start();
      for (const e of endpoints.list()) queue.add(key(e)); // Endpoints left without a Service
    },
    stop: loop.stop,
  };
}
