// The node side of volume expansion: a claim the resizer left FileSystemResizePending and that a pod
// on this node mounts gets its file system grown (a directory has nothing to grow) and its status
// finished as the kubelet's online expansion does: status.capacity = the allocated size, the
// conditions and allocatedResourceStatuses cleared, and a FileSystemResizeSuccessful Event on the pod.
import { isNotFound, mergePatch, type Clients } from '../controllers/client.ts';
import type { KubeObject } from '../controllers/informers.ts';
import type { RecordEvent } from '../controllers/events.ts';

export const resizePending = (pvc: KubeObject) =>
  (pvc.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'FileSystemResizePending' && c.status === 'True');

export class NodeVolumeExpansion {
  readonly #c: Clients;
  readonly #nodeName: string;
  readonly #record: RecordEvent;
  readonly #busy = new Set<string>();

  constructor(c: Clients, nodeName: string, record: RecordEvent) {
    this.#c = c;
    this.#nodeName = nodeName;
    this.#record = record;
  }

  /** Finish every pending claim that a pod on this node mounts (`mounted`: ns/claim → pod). */
  expand(claims: KubeObject[], mounted: Map<string, KubeObject>): void {
    for (const pvc of claims) {
      const k = `${pvc.metadata.namespace}/${pvc.metadata.name}`;
      const pod = mounted.get(k);
      if (!pod || !resizePending(pvc) || this.#busy.has(k)) continue;
      this.#busy.add(k);
      void this.#finish(pvc, pod).finally(() => this.#busy.delete(k));
    }
  }

  async #finish(pvc: KubeObject, pod: KubeObject): Promise<void> {
    const size = pvc.status?.allocatedResources?.storage ?? pvc.spec?.resources?.requests?.storage;
    try {
      await this.#c.core.patchNamespacedPersistentVolumeClaimStatus(
        {
          namespace: pvc.metadata.namespace!,
          name: pvc.metadata.name,
          body: { status: { capacity: { ...(pvc.status?.capacity ?? {}), storage: size }, conditions: null, allocatedResourceStatuses: null } },
        },
        mergePatch,
      );
      this.#record(
        { kind: 'Pod', metadata: pod.metadata },
        'Normal',
        'FileSystemResizeSuccessful',
        `MountVolume.NodeExpandVolume succeeded for volume "${pvc.spec?.volumeName ?? pvc.metadata.name}" ${this.#nodeName}`,
      );
    } catch (e) {
      if (!isNotFound(e))
        this.#record(
          { kind: 'Pod', metadata: pod.metadata },
          'Warning',
          'FileSystemResizeFailed',
          `MountVolume.NodeExpandVolume failed for volume "${pvc.metadata.name}": ${String(e)}`,
        );
    }
  }
}
