// Growing the node volumes (pure decision): a StatefulSet's volumeClaimTemplates are immutable, so a
// larger spec.nodes.storage.size is carried out on the PVCs themselves, as Kubernetes intends: raise
// each claim's request when its StorageClass allows expansion, then wait for the resize (the CSI
// controller, then the kubelet growing the file system online) to show in status.capacity. The
// node pods keep running: their capacity follows through the node facts (builders/node-facts.ts).
// What cannot be done is said, not retried blindly: a class without allowVolumeExpansion, a claim
// without a class, a size smaller than a volume already has (volumes never shrink).
import { quantityToBytes } from '../api/quantity.ts';
import type { ConditionInput } from './conditions.ts';

export interface ClaimView {
  name: string;
  requestBytes?: number; // spec.resources.requests.storage
  capacityBytes?: number; // status.capacity.storage (undefined: not bound yet)
  storageClassName?: string;
  /** Types of the claim's True conditions (Resizing, FileSystemResizePending, ...). */
  conditions: string[];
}

export interface VolumePlan {
  grow: string[]; // raise these claims' requests to the spec size
  notAllowed: { claim: string; why: string }[]; // would need to grow, cannot
  larger: string[]; // already larger than the spec asks (no shrinking)
  resizing: { claim: string; state: string }[]; // asked for the size, capacity not there yet
  condition: ConditionInput; // VolumesResized
}

/** A claim as the API returns it. */
export function claimView(pvc: { metadata: { name: string }; spec?: any; status?: any }): ClaimView {
  const bytes = (q: unknown) => {
    try {
      return q === undefined ? undefined : quantityToBytes(q as string);
    } catch {
      return undefined;
    }
  };
  return {
    name: pvc.metadata.name,
    requestBytes: bytes(pvc.spec?.resources?.requests?.storage),
    capacityBytes: pvc.status?.phase === 'Bound' ? bytes(pvc.status?.capacity?.storage) : undefined,
    storageClassName: pvc.spec?.storageClassName || undefined,
    conditions: (pvc.status?.conditions ?? []).filter((c: { status: string }) => c.status === 'True').map((c: { type: string }) => c.type),
  };
}

/**
 * `size` is spec.nodes.storage.size as written (what the claims are patched to); `expandable(class)`
 * says whether a StorageClass has allowVolumeExpansion: true (undefined: the class does not exist).
 */
export function planVolumes(size: string | number, claims: ClaimView[], expandable: (storageClass: string) => boolean | undefined): VolumePlan {
  const want = quantityToBytes(size);
  const plan: VolumePlan = {
    grow: [],
    notAllowed: [],
    larger: [],
    resizing: [],
    condition: { type: 'VolumesResized', status: 'True', reason: 'AtRequestedSize', message: `every node volume has ${size}` },
  };
  for (const c of [...claims].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
    if (c.capacityBytes === undefined || c.requestBytes === undefined) continue; // not bound yet: created at the template's size
    if (c.capacityBytes > want) {
      plan.larger.push(c.name);
      continue;
    }
    if (c.requestBytes < want) {
      const cls = c.storageClassName;
      const allowed = cls ? expandable(cls) : false;
      if (allowed) plan.grow.push(c.name);
      else
        plan.notAllowed.push({
          claim: c.name,
          why: !cls
            ? 'it has no StorageClass'
            : allowed === undefined
              ? `its StorageClass ${cls} does not exist`
              : `its StorageClass ${cls} does not allow volume expansion (allowVolumeExpansion is not true)`,
        });
      continue;
    }
    if (c.capacityBytes < want) {
      const state = c.conditions.includes('FileSystemResizePending')
        ? 'FileSystemResizePending (the node grows the file system)'
        : c.conditions.includes('Resizing')
          ? 'Resizing (the storage provider grows the volume)'
          : 'waiting for the resize to start';
      plan.resizing.push({ claim: c.name, state });
    }
  }
  if (plan.notAllowed.length) {
    plan.condition = {
      type: 'VolumesResized',
      status: 'False',
      reason: 'ExpansionNotAllowed',
      message: `cannot grow to ${size}: ${plan.notAllowed.map((n) => `${n.claim}: ${n.why}`).join('; ')}`,
    };
  } else if (plan.larger.length) {
    plan.condition = {
      type: 'VolumesResized',
      status: 'False',
      reason: 'ShrinkNotSupported',
      message: `volumes never shrink: ${plan.larger.join(', ')} already hold more than ${size}`,
    };
  } else if (plan.grow.length || plan.resizing.length) {
    const parts = [...plan.grow.map((g) => `${g}: requesting ${size}`), ...plan.resizing.map((r) => `${r.claim}: ${r.state}`)];
    plan.condition = { type: 'VolumesResized', status: 'False', reason: 'Resizing', message: `growing to ${size}: ${parts.join('; ')}` };
  }
  return plan;
}
