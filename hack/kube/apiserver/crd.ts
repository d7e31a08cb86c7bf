// CustomResourceDefinitions: validation of the definition, the resource types it serves, and the
// status the apiextensions controllers would write (NamesAccepted, Established).
import { compileErrors } from './cel.ts';
import { structuralErrors } from './structural.ts';
import type { FieldError } from './errors.ts';
import type { PrinterColumn, ResourceType } from './registry.ts';
import type { JSONSchema } from './schema.ts';
import type { KObject } from './store.ts';

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: JSONSchema };
  subresources?: { status?: object; scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } };
  additionalPrinterColumns?: PrinterColumn[];
  selectableFields?: { jsonPath: string }[];
}

export interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions: CrdVersion[];
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Field errors of a CRD object, as the apiextensions validation reports them. */
export function validateCrd(crd: KObject): FieldError[] {
  const spec = crd.spec as CrdSpec | undefined;
  const errs: FieldError[] = [];
  if (!spec) return [{ field: 'spec', type: 'FieldValueRequired', detail: '' }];
  if (!spec.group) errs.push({ field: 'spec.group', type: 'FieldValueRequired', detail: '' });
  if (!spec.names?.plural) errs.push({ field: 'spec.names.plural', type: 'FieldValueRequired', detail: '' });
  if (!spec.names?.kind) errs.push({ field: 'spec.names.kind', type: 'FieldValueRequired', detail: '' });
  if (spec.names?.plural && spec.group && crd.metadata.name !== `${spec.names.plural}.${spec.group}`) {
    errs.push({ field: 'metadata.name', type: 'FieldValueInvalid', badValue: crd.metadata.name, detail: 'must be spec.names.plural+"."+spec.group' });
  }
  if (spec.names?.plural && !dns1123Label.test(spec.names.plural))
    errs.push({
      field: 'spec.names.plural',
      type: 'FieldValueInvalid',
      badValue: spec.names.plural,
      detail: "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'",
    });
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster')
    errs.push({ field: 'spec.scope', type: 'FieldValueNotSupported', badValue: spec.scope, detail: 'supported values: "Cluster", "Namespaced"' });
  const versions = spec.versions ?? [];
  if (versions.length === 0)
    errs.push({ field: 'spec.versions', type: 'FieldValueInvalid', badValue: [], detail: 'must have exactly one version marked as storage version' });
  else if (versions.filter((v) => v.storage).length !== 1)
    errs.push({
      field: 'spec.versions',
      type: 'FieldValueInvalid',
      badValue: versions,
      hasBadValue: true,
      detail: 'must have exactly one version marked as storage version',
    });
  versions.forEach((v, i) => {
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) errs.push({ field: `spec.versions[${i}].schema.openAPIV3Schema`, type: 'FieldValueRequired', detail: 'schemas are required' });
    if (schema) errs.push(...structuralErrors(schema, `spec.versions[${i}].schema.openAPIV3Schema`, { root: true }));
    for (const m of compileErrors(schema, `spec.versions[${i}].schema.openAPIV3Schema`)) {
      const [field, ...rest] = m.split(': ');
      errs.push({ field, type: 'FieldValueInvalid', detail: rest.slice(2).join(': '), badValue: JSON.parse(rest[1]) });
    }
  });
  return errs;
}

/** The resource types one CRD serves (one per served version). */
export function crdTypes(crd: KObject): ResourceType[] {
  const spec = crd.spec as CrdSpec;
  const storage = spec.versions.find((v) => v.storage)?.name;
  return spec.versions
    .filter((v) => v.served)
    .map((v) => ({
      group: spec.group,
      version: v.name,
      resource: spec.names.plural,
      kind: spec.names.kind,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      namespaced: spec.scope === 'Namespaced',
      shortNames: spec.names.shortNames ?? [],
      categories: spec.names.categories ?? [],
      verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
      status: !!v.subresources?.status,
      scale: v.subresources?.scale,
      generation: true,
      printerColumns: v.additionalPrinterColumns,
      selectableFields: (v.selectableFields ?? []).map((f) => f.jsonPath.replace(/^\./, '')),
      schema: v.schema?.openAPIV3Schema,
      crd: crd.metadata.name!,
      storageVersion: storage,
    }));
}

/** The status the apiextensions controllers converge a CRD to. */
export function crdStatus(crd: KObject, now: string): Record<string, unknown> {
  const spec = crd.spec as CrdSpec;
  const old = (crd.status ?? {}) as { conditions?: { type: string; lastTransitionTime?: string }[]; storedVersions?: string[] };
  const since = (type: string) => old.conditions?.find((c) => c.type === type)?.lastTransitionTime ?? now;
  const storage = spec.versions.find((v) => v.storage)?.name;
  const stored = [...new Set([...(old.storedVersions ?? []), ...(storage ? [storage] : [])])];
  return {
    acceptedNames: {
      plural: spec.names.plural,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      kind: spec.names.kind,
      listKind: spec.names.listKind ?? `${spec.names.kind}List`,
      ...(spec.names.shortNames ? { shortNames: spec.names.shortNames } : {}),
      ...(spec.names.categories ? { categories: spec.names.categories } : {}),
    },
    conditions: [
      { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: since('NamesAccepted') },
      {
        type: 'Established',
        status: 'True',
        reason: 'InitialNamesAccepted',
        message: 'the initial names have been accepted',
        lastTransitionTime: since('Established'),
      },
    ],
    storedVersions: stored,
  };
}
