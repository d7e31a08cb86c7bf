// The scale subresource: an autoscaling/v1 Scale view over spec/status replica paths (built-in
// workloads and CRDs with subresources.scale).
import YAML from 'yaml';
import type { Api, WriteOpts } from './api.ts';
import { ApiError, badRequest, conflict } from './errors.ts';
import { evalJsonPath, setJsonPath } from './jsonpath.ts';
import { jsonPatch, mergePatch, strategicMerge } from './patch.ts';
import type { ResourceType } from './registry.ts';
import { labelSelectorString } from './selectors.ts';
import type { KObject } from './store.ts';

export function toScale(t: ResourceType, obj: KObject): Record<string, unknown> {
  const sc = t.scale!;
  const spec = evalJsonPath(obj, sc.specReplicasPath)[0];
  const status = evalJsonPath(obj, sc.statusReplicasPath)[0];
  let selector: unknown = sc.labelSelectorPath ? evalJsonPath(obj, sc.labelSelectorPath)[0] : undefined;
  if (!t.crd) selector = labelSelectorString((obj.spec as { selector?: Parameters<typeof labelSelectorString>[0] } | undefined)?.selector);
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: typeof spec === 'number' ? spec : 0 },
    status: { replicas: typeof status === 'number' ? status : 0, ...(selector ? { selector } : {}) },
  };
}

function scaleType(t: ResourceType): void {
  if (!t.scale) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
}

export function getScale(api: Api, t: ResourceType, ns: string, name: string): Record<string, unknown> {
  scaleType(t);
  return toScale(t, api.existing(t, ns, name));
}

/** Write a new Scale: only spec.replicas moves into the object; resourceVersion is a precondition. */
export function updateScale(api: Api, t: ResourceType, ns: string, name: string, body: unknown, opts: WriteOpts): Record<string, unknown> {
  scaleType(t);
  const old = api.existing(t, ns, name);
  const scale = body as { metadata?: { resourceVersion?: string; name?: string }; spec?: { replicas?: unknown } };
  if (!scale || typeof scale !== 'object') throw badRequest('Scale body required');
  if (scale.metadata?.name && scale.metadata.name !== name)
    throw badRequest(`the name of the object (${scale.metadata.name}) does not match the name on the URL (${name})`);
  if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict(t.group, t.resource, name);
  const replicas = scale.spec?.replicas ?? 0;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new ApiError(
      422,
      'Invalid',
      `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      {
        name,
        group: 'autoscaling',
        kind: 'Scale',
        causes: [
          { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, field: 'spec.replicas' },
        ],
      },
    );
  }
  const next = api.present(t, structuredClone(old));
  setJsonPath(next, t.scale!.specReplicasPath, replicas);
  const stored = api.commit(t, old, next, { ...opts, subresource: 'scale' });
  return toScale(t, stored);
}

export function patchScale(api: Api, t: ResourceType, ns: string, name: string, contentType: string, raw: string, opts: WriteOpts): Record<string, unknown> {
  scaleType(t);
  const current = toScale(t, api.existing(t, ns, name));
  const ct = contentType.split(';')[0].trim();
  let next: unknown;
  if (ct === 'application/apply-patch+yaml') next = mergePatch(current, YAML.parse(raw));
  else {
    let patch: unknown;
    try {
      patch = JSON.parse(raw);
    } catch (e) {
      throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    next =
      ct === 'application/json-patch+json'
        ? jsonPatch(current, patch)
        : ct === 'application/strategic-merge-patch+json'
          ? strategicMerge(current, patch)
          : mergePatch(current, patch);
  }
  return updateScale(api, t, ns, name, next, opts);
}
