// Validating admission of kube-apiserver that is not schema validation but that an operator meets:
// PersistentVolumeClaimResize — a claim may grow only once it is bound, and only when its
// StorageClass says `allowVolumeExpansion: true` (403 Forbidden otherwise, with Kubernetes' words).
// It runs after validation, as in kube-apiserver, and reads the StorageClass from the store.
import { quantityToBytes } from '../../../operator/src/api/quantity.ts';
import { ApiError, qualifiedResource } from './errors.ts';
import type { ResourceType } from './registry.ts';
import type { KObject, Store } from './store.ts';

type Any = Record<string, any>;

function forbidden(t: ResourceType, name: string, why: string): ApiError {
  return new ApiError(403, 'Forbidden', `${qualifiedResource(t.group, t.resource)} "${name}" is forbidden: ${why}`, {
    name,
    kind: t.resource,
    ...(t.group ? { group: t.group } : {}),
  });
}

export function storageBytes(q: unknown): number | undefined {
  if (q === undefined || q === null) return undefined;
  try {
    return quantityToBytes(q as string | number);
  } catch {
    return undefined;
  }
}

export function admitBuiltin(t: ResourceType, obj: KObject, old: KObject | undefined, store: Store, subresource?: string): void {
  if (t.group !== '' || t.resource !== 'persistentvolumeclaims' || !old || subresource === 'status') return;
  const o = obj as Any,
    prev = old as Any;
  const size = storageBytes(o.spec?.resources?.requests?.storage);
  const before = storageBytes(prev.spec?.resources?.requests?.storage);
  if (size === undefined || before === undefined || size <= before) return;
  const name = obj.metadata.name ?? '';
  if (prev.status?.phase !== 'Bound') throw forbidden(t, name, 'Only bound persistent volume claims can be expanded');
  const cls: string | undefined = o.spec?.storageClassName;
  const sc = cls ? (store.get('storage.k8s.io', 'storageclasses', '', cls) as Any | undefined) : undefined;
  if (!cls || cls !== prev.spec?.storageClassName || sc?.allowVolumeExpansion !== true) {
    throw forbidden(t, name, 'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
  }
}
