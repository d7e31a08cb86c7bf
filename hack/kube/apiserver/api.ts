// The verbs over the store: get, list, create, update, patch (merge, JSON, strategic, apply) with
// Kubernetes' write rules. HTTP-free: the router maps requests onto these methods.
import YAML from 'yaml';
import { validateBuiltin } from './builtin-validation.ts';
import { admitBuiltin } from './admission.ts';
import { crdStatus, validateCrd } from './crd.ts';
import { celRules } from './cel.ts';
import { ApiError, alreadyExists, badRequest, conflict, gone, invalid, notFound, unsupportedMediaType, type FieldError } from './errors.ts';
import { builtinShape, schemaShape, type Shape } from './fieldset.ts';
import { canonicalJson, defaultBuiltin, generatedName, keepAllocated, newUid, normalizeBuiltin, now, specOf, validateMeta } from './objects.ts';
import { jsonPatch, mergePatch, strategicMerge } from './patch.ts';
import type { Registry, ResourceType } from './registry.ts';
import { applyDefaults, prune, unknownFields, validate } from './schema.ts';
import { parseFieldSelector, parseLabelSelector, selectableFields } from './selectors.ts';
import { serverSideApply, trackUpdate } from './ssa.ts';
import type { KObject, Store } from './store.ts';

export interface WriteOpts {
  fieldManager?: string;
  userAgent?: string;
  dryRun?: boolean;
  force?: boolean;
  /** Strict: unknown fields are a 400; Warn (the default): they are pruned and reported in `warnings`. */
  fieldValidation?: string;
  warnings?: string[];
}
interface CommitOpts extends WriteOpts {
  subresource?: string;
  tracked?: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

const patchTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

export interface ApiBehaviour {
  /** Refuse loopback IPs in Endpoints and EndpointSlices, as a real API server does (default:
   *  accept them, so that the local control plane's `kubectl get endpoints` shows its pods). */
  refuseLoopbackEndpoints?: boolean;
}

export class Api {
  readonly registry: Registry;
  readonly store: Store;
  private readonly behaviour: ApiBehaviour;
  constructor(registry: Registry, store: Store, behaviour: ApiBehaviour = {}) {
    this.registry = registry;
    this.store = store;
    this.behaviour = behaviour;
  }

  /** An object as served through `t`'s version. */
  present(t: ResourceType, obj: KObject): KObject {
    const { apiVersion: _a, kind: _k, ...rest } = obj;
    void _a;
    void _k;
    return { apiVersion: apiVersionOf(t), kind: t.kind, ...rest } as KObject;
  }

  shape(t: ResourceType): Shape {
    return t.crd ? schemaShape(t.schema) : builtinShape();
  }

  manager(opts: WriteOpts): string {
    if (opts.fieldManager) return opts.fieldManager;
    const ua = opts.userAgent ?? '';
    return ua ? ua.split('/')[0] : 'unknown';
  }

  existing(t: ResourceType, ns: string, name: string): KObject {
    const obj = this.store.get(t.group, t.resource, t.namespaced ? ns : '', name);
    if (!obj) throw notFound(t.group, t.resource, name);
    return obj;
  }

  get(t: ResourceType, ns: string, name: string): KObject {
    return this.present(t, this.existing(t, ns, name));
  }

  list(t: ResourceType, ns: string | undefined, q: URLSearchParams): Record<string, unknown> {
    const byLabel = parseLabelSelector(q.get('labelSelector'));
    const byField = parseFieldSelector(q.get('fieldSelector'), selectableFields(t.group, t.resource, t.selectableFields));
    let rv = String(this.store.rv);
    const token = q.get('continue');
    let after = '';
    if (token) {
      let start: { rv: string; after: string };
      try {
        start = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      } catch {
        throw badRequest('invalid continue token');
      }
      rv = start.rv;
      after = start.after;
    }
    const keyOf = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const match = (o: KObject) => (!after || keyOf(o) > after) && byLabel(o) && byField(o);
    // Continue tokens and resourceVersionMatch=Exact read a consistent past state from the watch
    // window; without them a list serves the latest state ("0", "" and NotOlderThan all allow it).
    const exact = token ? Number(rv) : q.get('resourceVersionMatch') === 'Exact' ? Number(q.get('resourceVersion')) : undefined;
    if (exact !== undefined && (!Number.isInteger(exact) || exact <= 0)) throw badRequest(`invalid resource version: ${q.get('resourceVersion')}`);
    if (exact !== undefined && !token) rv = String(exact);
    // Read-only: items are presented (shallow copies) and serialised, never mutated.
    const found =
      exact === undefined
        ? this.store.scan(t.group, t.resource, t.namespaced ? ns : undefined, match)
        : this.store.scanAt(t.group, t.resource, t.namespaced ? ns : undefined, exact, match);
    if (!found) {
      if (exact! > this.store.rv)
        throw new ApiError(504, 'Timeout', `Too large resource version: ${exact}, current: ${this.store.rv}`, {
          causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
          retryAfterSeconds: 1,
        });
      throw token
        ? new ApiError(
            410,
            'Expired',
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
          )
        : gone(`too old resource version: ${exact} (${this.store.historyStart + 1})`);
    }
    let items = found;
    const limit = Number(q.get('limit') ?? 0);
    const metadata: Record<string, unknown> = { resourceVersion: rv };
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1];
      metadata.continue = Buffer.from(JSON.stringify({ rv, after: keyOf(last) })).toString('base64url');
      metadata.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    return { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata, items: items.map((o) => this.present(t, o)) };
  }

  private checkNamespace(t: ResourceType, ns: string, name: string): void {
    if (!t.namespaced) return;
    const nsObj = this.store.get('', 'namespaces', '', ns);
    if (!nsObj) throw notFound('', 'namespaces', ns);
    if (nsObj.metadata.deletionTimestamp) {
      throw new ApiError(
        403,
        'Forbidden',
        `${t.resource}${t.group ? '.' + t.group : ''} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
        {
          kind: t.resource,
          group: t.group || undefined,
          causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
        },
      );
    }
  }

  /** Prune, default and validate a custom resource (schema + CEL); CRDs get their own checks. */
  private validateObject(t: ResourceType, obj: KObject, old: KObject | undefined, opts: CommitOpts): void {
    const errs: FieldError[] = validateMeta(t, obj);
    if (t.schema) {
      const unknown = opts.fieldValidation === 'Ignore' ? [] : unknownFields(obj, t.schema);
      if (unknown.length && opts.fieldValidation === 'Strict') {
        const list = unknown.map((f) => `unknown field "${f}"`);
        throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: strict decoding error: ${list.join(', ')}`);
      }
      opts.warnings?.push(...unknown.map((f) => `unknown field "${f}"`));
      prune(obj, t.schema, true);
      applyDefaults(obj, t.schema);
      errs.push(...validate(obj, t.schema, '', old, celRules));
    }
    if (t.group === 'apiextensions.k8s.io' && t.resource === 'customresourcedefinitions') errs.push(...validateCrd(obj));
    if (!t.crd) errs.push(...validateBuiltin(t, obj, old, opts.subresource, this.behaviour));
    if (errs.length) throw invalid(t.kind, t.group, obj.metadata.name ?? '', errs);
    if (!t.crd) admitBuiltin(t, obj, old, this.store, opts.subresource);
  }

  private checkBody(t: ResourceType, body: unknown, ns: string): KObject {
    if (!isObj(body)) throw badRequest('the request body must be a JSON or YAML object');
    const obj = body as KObject;
    obj.metadata = isObj(obj.metadata) ? obj.metadata : {};
    if (obj.apiVersion && obj.apiVersion !== apiVersionOf(t) && !(t.crd && obj.apiVersion.startsWith(`${t.group}/`))) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersionOf(t)})`);
    }
    if (obj.kind && obj.kind !== t.kind) throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${t.kind})`);
    if (t.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== ns)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      obj.metadata.namespace = ns;
    } else delete obj.metadata.namespace;
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    return obj;
  }

  create(t: ResourceType, ns: string, body: unknown, opts: CommitOpts): KObject {
    const obj = this.checkBody(t, body, ns);
    const m = obj.metadata;
    this.checkNamespace(t, ns, m.name ?? m.generateName ?? '');
    if (!m.name && m.generateName) {
      for (let i = 0; i < 10 && (!m.name || this.store.get(t.group, t.resource, m.namespace ?? '', m.name)); i++) m.name = generatedName(m.generateName);
    }
    if (m.name && this.store.get(t.group, t.resource, m.namespace ?? '', m.name)) throw alreadyExists(t.group, t.resource, m.name);
    if (m.resourceVersion && !opts.tracked) throw badRequest('resourceVersion should not be set on objects to be created');
    if (t.crd && this.store.get('apiextensions.k8s.io', 'customresourcedefinitions', '', t.crd)?.metadata.deletionTimestamp) {
      throw new ApiError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating');
    }
    m.uid = newUid();
    m.creationTimestamp = now();
    for (const k of ['resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink']) delete m[k];
    if (t.generation) m.generation = 1;
    else delete m.generation;
    if (t.status) delete obj.status;
    if (!t.crd) {
      defaultBuiltin(t, obj);
      normalizeBuiltin(t, obj);
    }
    this.validateObject(t, obj, undefined, opts);
    if (t.group === 'apiextensions.k8s.io' && t.resource === 'customresourcedefinitions') obj.status = crdStatus(obj, now());
    if (!opts.tracked) trackUpdate(undefined, obj, this.shape(t), { manager: this.manager(opts), apiVersion: apiVersionOf(t), now: now() });
    if (opts.dryRun) return this.present(t, obj);
    return this.present(t, this.store.put(t.group, t.resource, obj));
  }

  /** The write path of update, patch and status/scale writes once the new object is known. */
  commit(t: ResourceType, old: KObject, body: unknown, opts: CommitOpts): KObject {
    let next = this.checkBody(t, body, old.metadata.namespace ?? '');
    if (next.metadata.name !== old.metadata.name)
      throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${old.metadata.name})`);
    if (next.metadata.resourceVersion && next.metadata.resourceVersion !== old.metadata.resourceVersion)
      throw conflict(t.group, t.resource, old.metadata.name!);
    if (opts.subresource === 'status') {
      next = {
        ...structuredClone(old),
        status: next.status,
        metadata: { ...structuredClone(old.metadata), managedFields: next.metadata.managedFields ?? old.metadata.managedFields },
      };
      if (next.status === undefined) delete next.status;
    } else if (t.status) {
      if (old.status === undefined) delete next.status;
      else next.status = structuredClone(old.status);
    }
    const m = next.metadata;
    for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
      if (old.metadata[k] === undefined) delete m[k];
      else (m as Record<string, unknown>)[k] = old.metadata[k];
    }
    m.resourceVersion = old.metadata.resourceVersion;
    if (old.metadata.deletionTimestamp) {
      const added = (m.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
      if (added.length)
        throw invalid(t.kind, t.group, old.metadata.name!, [
          {
            field: 'metadata.finalizers',
            type: 'FieldValueForbidden',
            detail: `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
          },
        ]);
    }
    if (!t.crd) {
      normalizeBuiltin(t, next);
      keepAllocated(t, old, next);
    }
    this.validateObject(t, next, old, opts);
    if (t.generation && specOf(t, next) !== specOf(t, old)) m.generation = (old.metadata.generation ?? 0) + 1;
    if (t.group === 'apiextensions.k8s.io' && t.resource === 'customresourcedefinitions') next.status = crdStatus(next, now());
    if (!opts.tracked)
      trackUpdate(old, next, this.shape(t), { manager: this.manager(opts), apiVersion: apiVersionOf(t), subresource: opts.subresource, now: now() });
    else if (opts.subresource !== 'status' && t.status) next.status = structuredClone(old.status);
    // A write that changes nothing is not a write: no new resourceVersion, no watch event
    // (compared with sorted keys, since clients serialise fields in their own order).
    const strip = (o: KObject) =>
      canonicalJson({
        ...o,
        apiVersion: undefined,
        kind: undefined,
        metadata: { ...o.metadata, managedFields: (o.metadata.managedFields ?? []).map((e) => ({ ...e, time: undefined })) },
      });
    if (strip(next) === strip({ ...old, apiVersion: apiVersionOf(t), kind: t.kind })) return this.present(t, old);
    if (opts.dryRun) return this.present(t, next);
    if (m.deletionTimestamp && (m.finalizers ?? []).length === 0 && !this.blocksRemoval(t, next)) {
      return this.present(t, this.store.remove(t.group, t.resource, m.namespace ?? '', m.name!, next)!);
    }
    return this.present(t, this.store.put(t.group, t.resource, next));
  }

  /** Namespaces stay until their spec.finalizers (the namespace controller's) are gone too. */
  blocksRemoval(t: ResourceType, obj: KObject): boolean {
    return !t.group && t.resource === 'namespaces' && ((obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length > 0;
  }

  update(t: ResourceType, ns: string, name: string, body: unknown, opts: CommitOpts): KObject {
    const old = this.existing(t, ns, name);
    if (isObj(body) && isObj(body.metadata) && body.metadata.name === undefined) body.metadata.name = name;
    // Custom resources (unlike most built-ins) refuse unconditional updates.
    if (t.crd && isObj(body) && !(isObj(body.metadata) && body.metadata.resourceVersion)) {
      throw invalid(t.kind, t.group, name, [
        { field: 'metadata.resourceVersion', type: 'FieldValueInvalid', rawBadValue: '0x0', detail: 'must be specified for an update' },
      ]);
    }
    return this.commit(t, old, body, opts);
  }

  patch(t: ResourceType, ns: string, name: string, contentType: string, raw: string, opts: CommitOpts): KObject {
    const ct = contentType.split(';')[0].trim().toLowerCase();
    if (!patchTypes.includes(ct) || (ct === 'application/strategic-merge-patch+json' && t.crd)) {
      throw unsupportedMediaType(t.crd ? patchTypes.filter((p) => !p.includes('strategic')) : patchTypes);
    }
    if (ct === 'application/apply-patch+yaml') return this.apply(t, ns, name, raw, opts);
    let patch: unknown;
    try {
      patch = JSON.parse(raw);
    } catch (e) {
      throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    const old = this.existing(t, ns, name);
    const base = this.present(t, old);
    const next =
      ct === 'application/json-patch+json'
        ? jsonPatch(base, patch)
        : ct === 'application/merge-patch+json'
          ? mergePatch(base, patch)
          : strategicMerge(base, patch);
    return this.commit(t, old, next, opts);
  }

  private apply(t: ResourceType, ns: string, name: string, raw: string, opts: CommitOpts): KObject {
    if (!opts.fieldManager) {
      throw invalid('PatchOptions', 'meta.k8s.io', '', [{ field: 'fieldManager', type: 'FieldValueRequired', detail: 'is required for apply patch' }]);
    }
    let applied: unknown;
    try {
      applied = YAML.parse(raw);
    } catch (e) {
      throw badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
    if (!isObj(applied)) throw badRequest('apply patch must be an object');
    const cfg = applied as KObject;
    cfg.metadata = isObj(cfg.metadata) ? cfg.metadata : {};
    if (!cfg.apiVersion || !cfg.kind) throw badRequest('invalid object type: apiVersion and kind must be set in an apply patch');
    if (cfg.metadata.name && cfg.metadata.name !== name)
      throw badRequest(`the name of the object (${cfg.metadata.name}) does not match the name on the URL (${name})`);
    cfg.metadata.name = name;
    if (t.namespaced) cfg.metadata.namespace ??= ns;
    for (const k of ['resourceVersion', 'uid', 'creationTimestamp', 'managedFields', 'generation']) delete cfg.metadata[k];
    const stripped: KObject =
      opts.subresource === 'status'
        ? {
            apiVersion: cfg.apiVersion,
            kind: cfg.kind,
            metadata: { name, ...(t.namespaced ? { namespace: ns } : {}) },
            ...(cfg.status !== undefined ? { status: cfg.status } : {}),
          }
        : { ...cfg };
    if (opts.subresource !== 'status' && t.status) delete stripped.status;
    const ctx = { manager: opts.fieldManager, apiVersion: apiVersionOf(t), subresource: opts.subresource, now: now() };
    const live = this.store.get(t.group, t.resource, t.namespaced ? ns : '', name);
    if (!live) {
      if (opts.subresource) throw notFound(t.group, t.resource, name);
      const created = serverSideApply(undefined, { ...stripped, metadata: { ...stripped.metadata } }, this.shape(t), ctx, !!opts.force);
      return this.create(t, ns, created, { ...opts, tracked: true });
    }
    const base = this.present(t, live);
    const merged = serverSideApply(base, stripped, this.shape(t), ctx, !!opts.force);
    return this.commit(t, live, merged, { ...opts, tracked: true });
  }
}
