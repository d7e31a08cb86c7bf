// A stand-in for the external-resizer (controller side of CSI volume expansion). When a bound claim
// asks for more than it has, the "controller expansion" grows the volume at once (the volume is a
// directory) and leaves the file system to the node, as a CSI driver with node expansion does:
//   Resizing (allocatedResourceStatuses ControllerResizeInProgress)
//   → FileSystemResizePending (NodeResizePending, allocatedResources = the new size)
// status.capacity changes only when the kubelet of a node running a pod that mounts the claim has
// grown the file system (kubelet/volume-expansion.ts), exactly as in Kubernetes: a claim no pod
// mounts stays FileSystemResizePending. Whether the claim may grow at all is the API server's
// admission (allowVolumeExpansion of its StorageClass), not this controller's.
import type { Clients } from './client.ts';
import { isNotFound, mergePatch } from './client.ts';
import type { Informers, KubeObject } from './informers.ts';
import { controllerLoop, workQueue } from './controller-loop.ts';
import type { Controller } from './statefulset-controller.ts';
import { eventRecorder } from './events.ts';
import { storageBytes } from '../apiserver/admission.ts';

export const FS_RESIZE_PENDING_MESSAGE = 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.';
const stamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The size a claim asks for beyond what it has been given so far (undefined: nothing to do). */
export function pendingGrowth(pvc: KubeObject): string | undefined {
  if (pvc.status?.phase !== 'Bound' || pvc.metadata.deletionTimestamp) return undefined;
  const want = pvc.spec?.resources?.requests?.storage;
  const given = storageBytes(pvc.status?.allocatedResources?.storage) ?? storageBytes(pvc.status?.capacity?.storage);
  const w = storageBytes(want);
  return w !== undefined && given !== undefined && w > given ? want : undefined;
}

export function volumeResizer(c: Clients, informers: Informers): Controller {
  const queue = workQueue('volume-resizer');
  const record = eventRecorder(c, 'external-resizer cairn.dev/process-kubelet');
  const key = (o: KubeObject) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
  const claims = informers.informer('persistentvolumeclaims', (type, o) => {
    if (type !== 'DELETED' && pendingGrowth(o)) queue.add(key(o));
  });

  async function reconcile(k: string): Promise<void> {
    const pvc = claims.get(k);
    const size = pvc && pendingGrowth(pvc);
    if (!pvc || !size) return;
    const patch = (status: Record<string, unknown>) =>
      c.core.patchNamespacedPersistentVolumeClaimStatus({ namespace: pvc.metadata.namespace!, name: pvc.metadata.name, body: { status } }, mergePatch);
    try {
      record(
        { kind: 'PersistentVolumeClaim', metadata: pvc.metadata },
        'Normal',
        'Resizing',
        `External resizer is resizing volume ${pvc.spec?.volumeName ?? pvc.metadata.name}`,
      );
      await patch({
        allocatedResourceStatuses: { storage: 'ControllerResizeInProgress' },
        conditions: [{ type: 'Resizing', status: 'True', lastProbeTime: null, lastTransitionTime: stamp() }],
      });
      await patch({
        allocatedResources: { storage: size },
        allocatedResourceStatuses: { storage: 'NodeResizePending' },
        conditions: [{ type: 'FileSystemResizePending', status: 'True', lastProbeTime: null, lastTransitionTime: stamp(), message: FS_RESIZE_PENDING_MESSAGE }],
      });
      record({ kind: 'PersistentVolumeClaim', metadata: pvc.metadata }, 'Normal', 'FileSystemResizeRequired', 'Require file system resize of volume on node');
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  const loop = controllerLoop({ caches: [claims], queues: [[queue, reconcile]] });
  return { start: loop.start, stop: loop.stop };
}
