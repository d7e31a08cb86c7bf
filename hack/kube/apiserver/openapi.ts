// /openapi/v3: a per group-version index and documents just rich enough for kubectl: every PATCH
// operation names its GVK and the `fieldValidation` parameter, so kubectl leaves field validation
// to the server (no client-side schema download), and no operation offers strategic merge, so
// kubectl computes apply patches from its built-in types (or JSON merge patch for custom kinds).
import { createHash } from 'node:crypto';
import type { Registry, ResourceType } from './registry.ts';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function gvDocument(registry: Registry, group: string, version: string): Record<string, unknown> | undefined {
  const types = registry.all().filter((t) => t.group === group && t.version === version);
  if (!types.length) return undefined;
  const paths: Record<string, unknown> = {};
  const gvk = (t: ResourceType) => ({ 'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind } });
  const params = [
    { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
    { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
    { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
  ];
  const body = {
    content: {
      'application/json-patch+json': { schema: { type: 'object' } },
      'application/merge-patch+json': { schema: { type: 'object' } },
      'application/apply-patch+yaml': { schema: { type: 'object' } },
    },
  };
  for (const t of types) {
    const base = `/${gvPath(group, version)}/${t.namespaced ? 'namespaces/{namespace}/' : ''}${t.resource}`;
    paths[base] = {
      post: { ...gvk(t), parameters: params, responses: { '201': { description: 'Created' } } },
      get: { ...gvk(t), responses: { '200': { description: 'OK' } } },
    };
    paths[`${base}/{name}`] = {
      get: { ...gvk(t), responses: { '200': { description: 'OK' } } },
      put: { ...gvk(t), parameters: params, responses: { '200': { description: 'OK' } } },
      patch: { ...gvk(t), parameters: params, requestBody: body, responses: { '200': { description: 'OK' } } },
    };
  }
  // Custom resources carry their structural schema, so `kubectl explain` works for them.
  const schemas: Record<string, unknown> = {};
  for (const t of types) {
    if (!t.schema) continue;
    const name = `${t.group.split('.').reverse().join('.')}.${t.version}.${t.kind}`;
    schemas[name] = { ...t.schema, 'x-kubernetes-group-version-kind': [{ group: t.group, version: t.version, kind: t.kind }] };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas } };
}

export function v3Index(registry: Registry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [group, versions] of registry.groupVersions()) {
    for (const v of versions) {
      const hash = createHash('sha256')
        .update(JSON.stringify(gvDocument(registry, group, v)))
        .digest('hex')
        .slice(0, 32)
        .toUpperCase();
      paths[gvPath(group, v)] = { serverRelativeURL: `/openapi/v3/${gvPath(group, v)}?hash=${hash}` };
    }
  }
  return { paths };
}
