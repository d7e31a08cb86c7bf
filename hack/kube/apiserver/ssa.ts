// Server-side apply and managedFields: who owns which field, conflicts between managers, removal of
// fields a manager stopped applying, and ownership transfer on ordinary updates.
import { ApiError } from './errors.ts';
import { decPath, decodeFields, encodeFields, fieldSet, itemKey, removeAt, valueAt, type Shape } from './fieldset.ts';
import { canonicalJson } from './objects.ts';
import type { KObject, ManagedFieldsEntry } from './store.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

export interface ManagerCtx {
  manager: string;
  apiVersion: string;
  subresource?: string;
  now: string;
}

function entryId(e: { manager: string; operation: string; subresource?: string }): string {
  return `${e.manager}\u0000${e.operation}\u0000${e.subresource ?? ''}`;
}

/** Merge an applied configuration into the live object: maps recurse, map-lists merge by key. */
function mergeApplied(live: unknown, applied: unknown, shape: Shape): unknown {
  if (isObj(applied) && !shape.atomicMap()) {
    const out: Obj = isObj(live) ? live : {};
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) {
        delete out[k];
        continue;
      }
      out[k] = mergeApplied(out[k], v, shape.child(k));
    }
    return out;
  }
  if (Array.isArray(applied)) {
    const l = shape.list();
    if (l.type === 'map') {
      const out = Array.isArray(live) ? live : [];
      for (const item of applied) {
        const idx = out.findIndex((o) => itemKey(o, l.keys) === itemKey(item, l.keys));
        if (idx >= 0) out[idx] = mergeApplied(out[idx], item, shape.items());
        else out.push(structuredClone(item));
      }
      return out;
    }
    if (l.type === 'set') {
      const out = Array.isArray(live) ? live : [];
      for (const item of applied) if (!out.some((o) => same(o, item))) out.push(item);
      return out;
    }
  }
  return structuredClone(applied);
}

interface Conflict {
  manager: string;
  operation: string;
  apiVersion: string;
  path: string[];
}

function conflictError(conflicts: Conflict[]): ApiError {
  const fmt = (p: string[]) =>
    p
      .map((el) =>
        el.startsWith('f:')
          ? `.${el.slice(2)}`
          : `[${
              el.startsWith('k:')
                ? el
                    .slice(2)
                    .replace(/^\{|\}$/g, '')
                    .replace(/"([^"]+)":/g, '$1=')
                : el.slice(2)
            }]`,
      )
      .join('');
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    // Appliers are named alone; updaters with the API version they wrote through (as Kubernetes prints).
    const key = c.operation === 'Apply' ? `"${c.manager}"` : `"${c.manager}" using ${c.apiVersion}`;
    byManager.set(key, [...(byManager.get(key) ?? []), fmt(c.path)]);
  }
  const n = conflicts.length;
  const parts = [...byManager.entries()].map(([who, fields]) =>
    n === 1 ? `conflict with ${who}: ${fields[0]}` : `conflicts with ${who}:\n${fields.map((f) => `- ${f}`).join('\n')}`,
  );
  return new ApiError(409, 'Conflict', `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${parts.join('\n')}`, {
    causes: conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${c.manager}"${c.operation === 'Apply' ? '' : ` using ${c.apiVersion}`}`,
      field: fmt(c.path),
    })),
  });
}

/**
 * Apply `applied` (already stripped to what this endpoint may write) on top of `live` (undefined on
 * create). Returns the new object with its managedFields; throws 409 on conflicts unless `force`.
 */
export function serverSideApply(live: KObject | undefined, applied: KObject, shape: Shape, ctx: ManagerCtx, force: boolean): KObject {
  const entries: ManagedFieldsEntry[] = structuredClone(live?.metadata.managedFields ?? []);
  const appliedSet = fieldSet(applied, shape);
  const me = { manager: ctx.manager, operation: 'Apply', subresource: ctx.subresource };
  const conflicts: Conflict[] = [];
  const stolen = new Map<ManagedFieldsEntry, Set<string>>();
  for (const e of entries) {
    if (e.manager === ctx.manager) continue;
    const owned = decodeFields(e.fieldsV1);
    for (const p of appliedSet) {
      if (!owned.has(p)) continue;
      const path = decPath(p);
      if (p.endsWith('"]') && path[path.length - 1].startsWith('k:')) continue; // item nodes are shared, not values
      if (!same(valueAt(live, path), valueAt(applied, path))) {
        conflicts.push({ manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, path });
        stolen.set(e, (stolen.get(e) ?? new Set()).add(p));
      }
    }
  }
  if (conflicts.length && !force) throw conflictError(conflicts);
  for (const [e, paths] of stolen) {
    const owned = decodeFields(e.fieldsV1);
    for (const p of paths) owned.delete(p);
    e.fieldsV1 = encodeFields(owned);
  }
  const mine = entries.find((e) => entryId(e) === entryId(me));
  const previously = mine ? decodeFields(mine.fieldsV1) : new Set<string>();
  const othersOwn = new Set<string>();
  for (const e of entries) if (e !== mine) for (const p of decodeFields(e.fieldsV1)) othersOwn.add(p);
  const result = structuredClone(live ?? { metadata: {} }) as KObject;
  // Fields this manager applied before and no longer applies go away unless someone else owns them.
  const dropped = [...previously].filter((p) => !appliedSet.has(p) && !othersOwn.has(p) && ![...othersOwn].some((o) => o.startsWith(p.slice(0, -1) + ',')));
  // Only the outermost: a list item goes whole, found by its key fields before anything inside it goes.
  const outermost = dropped.filter((p) => !dropped.some((a) => a !== p && p.startsWith(a.slice(0, -1) + ',')));
  for (const p of outermost) removeAt(result, decPath(p));
  mergeApplied(result, applied, shape);
  const others = entries.filter((e) => e !== mine);
  const next: ManagedFieldsEntry = {
    manager: ctx.manager,
    operation: 'Apply',
    apiVersion: ctx.apiVersion,
    time: ctx.now,
    fieldsType: 'FieldsV1',
    fieldsV1: encodeFields(appliedSet),
    ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
  };
  result.metadata.managedFields = [...others.filter((e) => Object.keys(e.fieldsV1).length > 0), next];
  return result;
}

/** Ownership after a non-apply write: the writer takes every changed field, others lose them. */
export function trackUpdate(old: KObject | undefined, next: KObject, shape: Shape, ctx: ManagerCtx): void {
  const entries: ManagedFieldsEntry[] = structuredClone(old?.metadata.managedFields ?? []);
  const oldSet = old ? fieldSet(old, shape) : new Set<string>();
  const newSet = fieldSet(next, shape);
  const changed = new Set<string>();
  for (const p of newSet) if (!oldSet.has(p) || !same(valueAt(old, decPath(p)), valueAt(next, decPath(p)))) changed.add(p);
  const removed = [...oldSet].filter((p) => !newSet.has(p));
  const me = { manager: ctx.manager, operation: 'Update', subresource: ctx.subresource };
  let mine = entries.find((e) => entryId(e) === entryId(me));
  for (const e of entries) {
    const owned = decodeFields(e.fieldsV1);
    let touched = false;
    for (const p of removed) touched = owned.delete(p) || touched;
    if (e !== mine) for (const p of changed) touched = owned.delete(p) || touched;
    if (touched) e.fieldsV1 = encodeFields(owned);
  }
  if (changed.size) {
    if (!mine) {
      mine = {
        manager: ctx.manager,
        operation: 'Update',
        apiVersion: ctx.apiVersion,
        time: ctx.now,
        fieldsType: 'FieldsV1',
        fieldsV1: {},
        ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
      };
      entries.push(mine);
    }
    const owned = decodeFields(mine.fieldsV1);
    for (const p of changed) owned.add(p);
    mine.fieldsV1 = encodeFields(owned);
    mine.time = ctx.now;
    mine.apiVersion = ctx.apiVersion;
  }
  const kept = entries.filter((e) => Object.keys(e.fieldsV1).length > 0);
  if (kept.length) next.metadata.managedFields = kept;
  else delete next.metadata.managedFields;
}
