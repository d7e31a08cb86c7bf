// Structural-schema rules kube-apiserver enforces on CRD schemas (apiextensions validation), so a
// CRD that a real cluster would reject is rejected here too: every specified field has a type,
// arrays have items, properties and additionalProperties exclude each other, map lists have keys,
// and metadata at the root may only constrain name and generateName.
import type { FieldError } from './errors.ts';
import type { JSONSchema } from './schema.ts';

export function structuralErrors(
  s: JSONSchema | undefined,
  path: string,
  opts: { root?: boolean; parentPreserves?: boolean; field?: 'object' | 'items' } = {},
): FieldError[] {
  if (!s) return [];
  const errs: FieldError[] = [];
  const free = s['x-kubernetes-int-or-string'] || s['x-kubernetes-preserve-unknown-fields'];
  if (!s.type && !free && opts.field) {
    errs.push({
      field: `${path}.type`,
      type: 'FieldValueRequired',
      detail: opts.field === 'items' ? 'must not be empty for specified array items' : 'must not be empty for specified object fields',
    });
  }
  if (s.type === 'array' && !s.items) errs.push({ field: `${path}.items`, type: 'FieldValueRequired', detail: 'must be specified' });
  if (s.properties && s.additionalProperties !== undefined && s.additionalProperties !== false) {
    errs.push({ field: `${path}.additionalProperties`, type: 'FieldValueForbidden', detail: 'additionalProperties and properties are mutual exclusive' });
  }
  if (s['x-kubernetes-list-type'] === 'map' && !(s['x-kubernetes-list-map-keys'] ?? []).length) {
    errs.push({ field: `${path}.x-kubernetes-list-map-keys`, type: 'FieldValueRequired', detail: 'must not be empty if x-kubernetes-list-type is map' });
  }
  if (s['x-kubernetes-list-map-keys'] && s['x-kubernetes-list-type'] !== 'map') {
    errs.push({
      field: `${path}.x-kubernetes-list-type`,
      type: 'FieldValueInvalid',
      badValue: s['x-kubernetes-list-type'] ?? '',
      detail: 'must be map if x-kubernetes-list-map-keys is non-empty',
    });
  }
  if (opts.root) {
    if (s.type !== 'object') errs.push({ field: `${path}.type`, type: 'FieldValueInvalid', badValue: s.type ?? '', detail: 'must be object at the root' });
    const meta = s.properties?.metadata;
    if (meta) {
      const extra = Object.keys(meta).filter((k) => !['type', 'properties', 'description'].includes(k));
      const props = Object.keys(meta.properties ?? {}).filter((k) => k !== 'name' && k !== 'generateName');
      if (extra.length || props.length)
        errs.push({
          field: `${path}.properties[metadata]`,
          type: 'FieldValueForbidden',
          detail: 'must not specify anything other than name and generateName, but metadata is implicitly specified',
        });
    }
  }
  for (const [k, c] of Object.entries(s.properties ?? {})) {
    if (opts.root && k === 'metadata') continue;
    errs.push(...structuralErrors(c, `${path}.properties[${k}]`, { field: 'object' }));
  }
  if (s.items) errs.push(...structuralErrors(s.items, `${path}.items`, { field: 'items' }));
  if (typeof s.additionalProperties === 'object') errs.push(...structuralErrors(s.additionalProperties, `${path}.additionalProperties`, { field: 'object' }));
  return errs;
}
