// A stand-in for the persistent-volume controller and a dynamic provisioner: every PVC is bound at
// once (status.phase Bound, capacity = the request) because its volume is just a directory the
// kubelet creates under <dataDir>/pvc/<namespace>/<claim>. No PersistentVolume objects are made.
import type { Clients } from './client.ts';
import { isNotFound, mergePatch } from './client.ts';
import type { Informers, KubeObject } from './informers.ts';
import { controllerLoop, workQueue } from './controller-loop.ts';
import type { Controller } from './statefulset-controller.ts';

export function volumeBinder(c: Clients, informers: Informers): Controller {
  const queue = workQueue('volume-binder');
  const key = (o: KubeObject) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
  const claims = informers.informer('persistentvolumeclaims', (type, o) => {
    if (type !== 'DELETED' && o.status?.phase !== 'Bound') queue.add(key(o));
  });

  async function reconcile(k: string): Promise<void> {
    const pvc = claims.get(k);
    if (!pvc || pvc.status?.phase === 'Bound' || pvc.metadata.deletionTimestamp) return;
    const status = {
      phase: 'Bound',
      accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
      capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '1Gi' },
    };
    try {
      await c.core.patchNamespacedPersistentVolumeClaimStatus({ namespace: pvc.metadata.namespace!, name: pvc.metadata.name, body: { status } }, mergePatch);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  const loop = controllerLoop({ caches: [claims], queues: [[queue, reconcile]] });
  return { start: loop.start, stop: loop.stop };
}
