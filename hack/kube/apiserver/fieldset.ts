// Field sets as server-side apply tracks ownership: paths of `f:<field>`, `k:{<keys>}` (map-list
// items), `v:<value>` (set-list items); encoded as managedFields' FieldsV1 trie.
import { mergeKeys, mergedPrimitiveLists } from './patch.ts';
import type { JSONSchema } from './schema.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What SSA needs to know about the type at a position: list semantics and map atomicity. */
export interface Shape {
  child(field: string): Shape;
  items(): Shape;
  list(): { type: 'map'; keys: string[] } | { type: 'set' } | { type: 'atomic' };
  atomicMap(): boolean;
}

/** Built-in kinds: list semantics from the Go types' patch merge keys (by field name). */
export function builtinShape(field = ''): Shape {
  return {
    child: (f) => builtinShape(f),
    items: () => builtinShape(''),
    list: () => {
      if (mergedPrimitiveLists.has(field)) return { type: 'set' };
      if (field === 'ports') return { type: 'map', keys: ['containerPort', 'port'] };
      return mergeKeys[field] ? { type: 'map', keys: [mergeKeys[field]] } : { type: 'atomic' };
    },
    atomicMap: () => false,
  };
}

/** Custom resources: list semantics from x-kubernetes-list-type (default atomic). */
export function schemaShape(s: JSONSchema | undefined): Shape {
  return {
    child: (f) => {
      if (!s && f === 'metadata') return builtinShape('metadata');
      if (s?.properties?.[f]) return schemaShape(s.properties[f]);
      if (f === 'metadata' && s && !s.properties?.metadata) return builtinShape('metadata');
      return schemaShape(isObj(s?.additionalProperties) ? (s!.additionalProperties as JSONSchema) : undefined);
    },
    items: () => schemaShape(s?.items),
    list: () => {
      const t = s?.['x-kubernetes-list-type'];
      if (t === 'map') return { type: 'map', keys: s!['x-kubernetes-list-map-keys'] ?? [] };
      if (t === 'set') return { type: 'set' };
      return { type: 'atomic' };
    },
    atomicMap: () => s?.['x-kubernetes-map-type'] === 'atomic',
  };
}

/** Metadata fields SSA tracks; name/namespace/uid/resourceVersion and the like are not owned. */
const ownedMetadata = new Set(['labels', 'annotations', 'finalizers', 'ownerReferences']);

export function itemKey(item: unknown, keys: string[]): string {
  const o: Obj = {};
  if (isObj(item)) for (const k of keys) if (item[k] !== undefined) o[k] = item[k];
  return `k:${JSON.stringify(o)}`;
}

const enc = (p: string[]) => JSON.stringify(p);
export const decPath = (s: string) => JSON.parse(s) as string[];

/** Every owned path of an object (leaves, atomic values, and list-item nodes). */
export function fieldSet(obj: unknown, shape: Shape, opts: { root?: boolean } = { root: true }): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown, path: string[], sh: Shape, depth: number) => {
    if (isObj(v) && !sh.atomicMap()) {
      const keys = Object.keys(v);
      if (keys.length === 0 && path.length) {
        out.add(enc(path));
        return;
      }
      for (const k of keys) {
        if (depth === 0 && opts.root !== false && (k === 'apiVersion' || k === 'kind')) continue;
        if (depth === 1 && path[0] === 'f:metadata' && !ownedMetadata.has(k)) continue;
        walk(v[k], [...path, `f:${k}`], sh.child(k), depth + 1);
      }
      return;
    }
    if (Array.isArray(v)) {
      const l = sh.list();
      if (l.type === 'map') {
        for (const item of v) {
          const p = [...path, itemKey(item, l.keys)];
          out.add(enc(p));
          if (isObj(item)) for (const k of Object.keys(item)) walk(item[k], [...p, `f:${k}`], sh.items().child(k), depth + 2);
        }
        return;
      }
      if (l.type === 'set') {
        for (const item of v) out.add(enc([...path, `v:${JSON.stringify(item)}`]));
        return;
      }
    }
    if (path.length) out.add(enc(path));
  };
  walk(obj, [], shape, 0);
  return out;
}

/** The value at a field path, or undefined. */
export function valueAt(obj: unknown, path: string[]): unknown {
  let cur: unknown = obj;
  for (const el of path) {
    if (el.startsWith('f:')) {
      cur = isObj(cur) ? cur[el.slice(2)] : undefined;
      continue;
    }
    if (!Array.isArray(cur)) return undefined;
    if (el.startsWith('k:')) {
      const want = JSON.parse(el.slice(2)) as Obj;
      cur = cur.find((i) => isObj(i) && Object.entries(want).every(([k, x]) => JSON.stringify(i[k]) === JSON.stringify(x)));
    } else if (el.startsWith('v:')) {
      const want = el.slice(2);
      cur = cur.some((i) => JSON.stringify(i) === want) ? JSON.parse(want) : undefined;
    } else return undefined;
  }
  return cur;
}

/** Remove the field at `path` (a leaf, a map-list item or a set value) from obj in place. */
export function removeAt(obj: unknown, path: string[]): void {
  if (!path.length) return;
  const parent = valueAt(obj, path.slice(0, -1));
  const last = path[path.length - 1];
  if (last.startsWith('f:')) {
    if (isObj(parent)) delete parent[last.slice(2)];
    return;
  }
  if (!Array.isArray(parent)) return;
  const idx = last.startsWith('k:')
    ? parent.findIndex((i) => isObj(i) && Object.entries(JSON.parse(last.slice(2)) as Obj).every(([k, x]) => JSON.stringify(i[k]) === JSON.stringify(x)))
    : parent.findIndex((i) => JSON.stringify(i) === last.slice(2));
  if (idx >= 0) parent.splice(idx, 1);
}

/** Paths → FieldsV1 trie (`{"f:spec":{"f:replicas":{}}}`, list items carry `".": {}`). */
export function encodeFields(set: Set<string>): Obj {
  const root: Obj = {};
  const paths = [...set].map(decPath).sort((a, b) => a.length - b.length);
  for (const p of paths) {
    let node = root;
    for (const el of p) node = (node[el] ??= {}) as Obj;
    if (Object.keys(node).length > 0 || p[p.length - 1].startsWith('k:')) node['.'] = {};
  }
  // A path added after its children were created marks itself with "." as well.
  return root;
}

export function decodeFields(trie: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, path: string[]) => {
    if (!isObj(node)) return;
    const keys = Object.keys(node);
    if (keys.length === 0) {
      if (path.length) out.add(enc(path));
      return;
    }
    for (const k of keys) {
      if (k === '.') {
        out.add(enc(path));
        continue;
      }
      walk(node[k], [...path, k]);
    }
  };
  walk(trie, []);
  return out;
}
