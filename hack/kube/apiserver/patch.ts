// Patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902, `test` included) and strategic
// merge patch for built-in kinds, with list merge keys from the Kubernetes API types.
import jsonpatch from 'fast-json-patch';
import { ApiError, badRequest } from './errors.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Obj = isObj(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  try {
    return jsonpatch.applyPatch(structuredClone(target), ops as jsonpatch.Operation[], true, false).newDocument;
  } catch (e) {
    const err = e as { name?: string; message: string };
    const message = err.name === 'TEST_OPERATION_FAILED' ? 'testing value failed' : err.message.split('\n')[0];
    throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request`, {
      causes: [{ reason: 'UnexpectedServerResponse', message }],
    });
  }
}

// patchMergeKey of list fields in the built-in API types (by field name; `ports` depends on context).
export const mergeKeys: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  readinessGates: 'conditionType',
  secrets: 'name',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  schedulingGates: 'name',
};
// Primitive lists with patchStrategy=merge: union instead of replace.
export const mergedPrimitiveLists = new Set(['finalizers']);

function keyFor(field: string, items: unknown[]): string | undefined {
  if (field === 'ports') return items.some((i) => isObj(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  return mergeKeys[field];
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((i) => !(isObj(i) && i.$patch === 'delete')).map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

function mergeList(field: string, orig: unknown, patch: unknown[]): unknown[] {
  if (patch.some((i) => isObj(i) && i.$patch === 'replace')) return stripDirectives(patch.filter((i) => !(isObj(i) && i.$patch === 'replace'))) as unknown[];
  const base = Array.isArray(orig) ? structuredClone(orig) : [];
  if (mergedPrimitiveLists.has(field) && patch.every((i) => !isObj(i))) {
    for (const i of patch) if (!base.includes(i)) base.push(i);
    return base;
  }
  const key = keyFor(field, [...base, ...patch]);
  if (!key || !patch.every(isObj)) return stripDirectives(patch) as unknown[];
  let out = base as unknown[];
  for (const item of patch as Obj[]) {
    const idx = out.findIndex((o) => isObj(o) && o[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out = out.filter((_, i) => i !== idx);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], item);
    else out.push(stripDirectives(item));
  }
  return out;
}

/** Strategic merge patch: merge-keyed lists, `$patch`, `$retainKeys`, `$deleteFromPrimitiveList`, `$setElementOrder`. */
export function strategicMerge(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') return stripDirectives(patch);
  if (patch.$patch === 'delete') return undefined;
  const out: Obj = isObj(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = (out[field] as unknown[]).filter((x) => !v.includes(x));
      continue;
    }
    if (k.startsWith('$')) continue; // $setElementOrder/<list>, $patch, $retainKeys: ordering and handled directives
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = mergeList(k, out[k], v);
      continue;
    }
    if (isObj(v)) {
      const merged = strategicMerge(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
      continue;
    }
    out[k] = v;
  }
  if (Array.isArray(patch.$retainKeys)) {
    for (const k of Object.keys(out)) if (!(patch.$retainKeys as string[]).includes(k)) delete out[k];
  }
  return out;
}
