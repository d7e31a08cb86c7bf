// HTTP → API: path parsing (/api/v1/..., /apis/<g>/<v>/..., legacy /watch/ paths), bodies, content
// negotiation (JSON or Table), and metav1.Status for every error.
import type { IncomingMessage, ServerResponse } from 'node:http';
import YAML from 'yaml';
import type { Api, WriteOpts } from './api.ts';
import { deleteCollection, deleteObject, type DeleteOpts } from './delete.ts';
import { coreVersions, group, groupList, resourceList, versionInfo } from './discovery.ts';
import { ApiError, badRequest, methodNotAllowed, unsupportedMediaType } from './errors.ts';
import type { ResourceType } from './registry.ts';
import { getScale, patchScale, updateScale } from './scale.ts';
import { toTable, wantsTable } from './table.ts';
import { gvDocument, v3Index } from './openapi.ts';
import { decodeProtobufObject } from './protobuf.ts';
import { servePodLogs } from './podlogs.ts';
import { serveWatch, type WatchOptions } from './watch.ts';
import { logger } from '../../../node-runtime/src/util/log.ts';

const log = logger('kube-apiserver');

export interface RouteCtx {
  api: Api;
  serverAddress: string;
  watch: WatchOptions;
}

interface ResourcePath {
  t: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  watch: boolean;
}

function send(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  const text = JSON.stringify(body);
  // Kubernetes warnings travel as `Warning: 299 - "<text>"` headers; clients print them.
  const headers: Record<string, string | string[]> = warnings.length ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {};
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const notFoundPage = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

// Bodies stay bytes until their content type is known (protobuf is binary).
type Body = Buffer;

function readBody(req: IncomingMessage): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody(body: Body, contentType: string | undefined): unknown {
  const ct = (contentType ?? 'application/json').split(';')[0].trim();
  if (ct === 'application/vnd.kubernetes.protobuf') return decodeProtobufObject(body);
  if (ct.includes('protobuf') || ct.includes('cbor')) throw unsupportedMediaType(['application/json', 'application/yaml']);
  const raw = body.toString('utf8');
  if (raw.trim() === '') return undefined;
  try {
    if (ct.includes('yaml')) return YAML.parse(raw);
    return JSON.parse(raw);
  } catch (e) {
    throw badRequest(`the body of the request could not be decoded: ${(e as Error).message}`);
  }
}

/** Resource paths after the group-version prefix: [watch/][namespaces/<ns>/]<resource>[/<name>[/<sub>]]. */
function resolve(api: Api, groupName: string, version: string, segs: string[]): ResourcePath {
  let watch = false;
  if (segs[0] === 'watch') {
    watch = true;
    segs = segs.slice(1);
  }
  let namespace: string | undefined;
  if (segs[0] === 'namespaces' && segs.length >= 3 && !(segs.length === 3 && ['status', 'finalize'].includes(segs[2]) && !groupName)) {
    namespace = segs[1];
    segs = segs.slice(2);
  }
  const [resource, name, subresource, ...rest] = segs;
  if (rest.length) throw notFoundPage();
  const t = api.registry.find(groupName, version, resource);
  if (!t) throw notFoundPage();
  if (namespace !== undefined && !t.namespaced) throw notFoundPage();
  return { t, namespace, name, subresource, watch };
}

function writeOpts(req: IncomingMessage, q: URLSearchParams): WriteOpts {
  const dryRun = q.getAll('dryRun');
  return {
    fieldManager: q.get('fieldManager') ?? undefined,
    userAgent: req.headers['user-agent'],
    dryRun: dryRun.includes('All'),
    force: q.get('force') === 'true',
    fieldValidation: q.get('fieldValidation') ?? 'Warn',
    warnings: [],
  };
}

export async function route(ctx: RouteCtx, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const q = url.searchParams;
  const method = req.method ?? 'GET';
  const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const { api } = ctx;
  try {
    if (url.pathname === '/version' || url.pathname === '/version/') return send(res, 200, versionInfo());
    if (['/healthz', '/livez', '/readyz'].includes(url.pathname)) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (segs[0] === 'openapi' && segs[1] === 'v3') {
      if (segs.length === 2) return send(res, 200, v3Index(api.registry));
      const doc = segs[2] === 'api' ? gvDocument(api.registry, '', segs[3]) : gvDocument(api.registry, segs[3], segs[4]);
      if (!doc) throw notFoundPage();
      return send(res, 200, doc);
    }
    let groupName: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api') {
      if (segs.length === 1) return send(res, 200, coreVersions(ctx.serverAddress));
      [groupName, version, rest] = ['', segs[1], segs.slice(2)];
    } else if (segs[0] === 'apis') {
      if (segs.length === 1) return send(res, 200, groupList(api.registry));
      if (segs.length === 2) {
        const g = group(api.registry, segs[1]);
        if (!g) throw notFoundPage();
        return send(res, 200, g);
      }
      [groupName, version, rest] = [segs[1], segs[2], segs.slice(3)];
    } else throw notFoundPage();
    if (rest.length === 0) {
      const list = resourceList(api.registry, groupName, version);
      if (!list) throw notFoundPage();
      return send(res, 200, list);
    }
    const p = resolve(api, groupName, version, rest);
    await serveResource(ctx, req, res, p, q, method);
  } catch (e) {
    if (e instanceof ApiError) {
      log.debug({ method, path: url.pathname, code: e.code, reason: e.reason, message: e.message }, 'request refused');
      if (!res.headersSent) send(res, e.code, e.toStatus());
      return;
    }
    log.error({ err: e, method, path: url.pathname }, 'request failed');
    if (!res.headersSent) send(res, 500, new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`).toStatus());
  }
}

async function serveResource(ctx: RouteCtx, req: IncomingMessage, res: ServerResponse, p: ResourcePath, q: URLSearchParams, method: string): Promise<void> {
  const { api } = ctx;
  const { t, name, subresource } = p;
  const ns = p.namespace ?? (t.namespaced ? undefined : '');
  const table = wantsTable(req.headers.accept);
  const isWatch = p.watch || q.get('watch') === 'true' || q.get('watch') === '1';
  if (subresource && !['status', 'scale', 'finalize', 'binding', 'log'].includes(subresource)) throw notFoundPage();
  if (subresource === 'log') {
    if (t.resource !== 'pods' || t.group || !name || method !== 'GET') throw notFoundPage();
    return servePodLogs(api, req, res, ns ?? '', name, q);
  }
  if (subresource === 'binding' && !(t.resource === 'pods' && !t.group)) throw notFoundPage();
  if (subresource === 'status' && !t.status) throw notFoundPage();
  if (subresource === 'finalize' && !(t.resource === 'namespaces' && !t.group)) throw notFoundPage();
  const needNs = () => {
    if (t.namespaced && ns === undefined) throw notFoundPage();
    return ns ?? '';
  };

  if (!t.group && t.resource === 'bindings') {
    // The scheduler's other spelling of pods/binding: POST .../bindings with the pod's name.
    if (method !== 'POST' || name) throw methodNotAllowed();
    const body = parseBody(await readBody(req), req.headers['content-type']) as { metadata?: { name?: string } } | undefined;
    return send(res, 201, bindPod(api, api.registry.find('', 'v1', 'pods')!, needNs(), body?.metadata?.name ?? '', body));
  }
  if (method === 'GET' && isWatch) {
    if (subresource) throw methodNotAllowed();
    return serveWatch(api, req, res, { t, namespace: ns || undefined, name, query: q, table }, ctx.watch);
  }
  if (!name) {
    if (method === 'GET') {
      const list = api.list(t, ns || undefined, q);
      if (table) return send(res, 200, toTable(t, list.items as never[], list.metadata as Record<string, unknown>, q.get('includeObject') ?? 'Metadata'));
      return send(res, 200, list);
    }
    const raw = await readBody(req);
    if (method === 'POST') {
      const o = writeOpts(req, q);
      return send(res, 201, api.create(t, needNs(), parseBody(raw, req.headers['content-type']), o), o.warnings);
    }
    if (method === 'DELETE')
      return send(res, 200, deleteCollection(api, t, ns || undefined, q, deleteOpts(req, q, parseBody(raw, req.headers['content-type']))));
    throw methodNotAllowed();
  }
  const nsName = needNs();
  const raw = method === 'GET' ? Buffer.alloc(0) : await readBody(req);
  const opts = writeOpts(req, q);
  if (subresource === 'scale') {
    if (method === 'GET') return send(res, 200, getScale(api, t, nsName, name));
    if (method === 'PUT') return send(res, 200, updateScale(api, t, nsName, name, parseBody(raw, req.headers['content-type']), opts));
    if (method === 'PATCH') return send(res, 200, patchScale(api, t, nsName, name, req.headers['content-type'] ?? '', raw.toString('utf8'), opts));
    throw methodNotAllowed();
  }
  const sub = subresource === 'finalize' ? 'finalize' : subresource;
  switch (method) {
    case 'GET': {
      const obj = api.get(t, nsName, name);
      if (table && !subresource)
        return send(res, 200, toTable(t, [obj], { resourceVersion: obj.metadata.resourceVersion }, q.get('includeObject') ?? 'Metadata'));
      return send(res, 200, obj);
    }
    case 'PUT':
      return send(res, 200, api.update(t, nsName, name, parseBody(raw, req.headers['content-type']), { ...opts, subresource: sub }), opts.warnings);
    case 'POST': {
      if (subresource !== 'binding') throw methodNotAllowed();
      return send(res, 201, bindPod(api, t, nsName, name, parseBody(raw, req.headers['content-type'])));
    }
    case 'PATCH': {
      const existed = !!api.store.get(t.group, t.resource, nsName, name);
      const out = api.patch(t, nsName, name, req.headers['content-type'] ?? '', raw.toString('utf8'), { ...opts, subresource: sub });
      return send(res, existed ? 200 : 201, out, opts.warnings);
    }
    case 'DELETE': {
      if (subresource) throw methodNotAllowed();
      const r = deleteObject(api, t, nsName, name, deleteOpts(req, q, parseBody(raw, req.headers['content-type'])));
      return send(res, r.code, r.body);
    }
    default:
      throw methodNotAllowed();
  }
}

/** pods/binding: what the scheduler posts; sets spec.nodeName once (409 when already bound). */
function bindPod(api: Api, t: ResourceType, ns: string, name: string, body: unknown): Record<string, unknown> {
  const target = (body as { target?: { name?: string } } | undefined)?.target?.name;
  if (!target) throw new ApiError(422, 'Invalid', `Binding "${name}" is invalid: target.name: Required value`);
  const pod = api.existing(t, ns, name);
  const spec = (pod.spec ?? {}) as { nodeName?: string };
  if (spec.nodeName)
    throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${spec.nodeName}"`, {
      name,
      kind: 'pods/binding',
    });
  if (pod.metadata.deletionTimestamp)
    throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is being deleted, cannot be assigned to a host`, {
      name,
      kind: 'pods/binding',
    });
  api.commit(t, pod, api.present(t, { ...pod, spec: { ...spec, nodeName: target } }), { fieldManager: 'kube-scheduler', subresource: 'binding' });
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}

function deleteOpts(req: IncomingMessage, q: URLSearchParams, body: unknown): DeleteOpts {
  const b = (body && typeof body === 'object' ? body : {}) as {
    propagationPolicy?: string;
    gracePeriodSeconds?: number;
    orphanDependents?: boolean;
    preconditions?: DeleteOpts['preconditions'];
    dryRun?: string[];
  };
  const grace = q.get('gracePeriodSeconds') ?? b.gracePeriodSeconds;
  return {
    ...writeOpts(req, q),
    propagationPolicy: q.get('propagationPolicy') ?? b.propagationPolicy,
    gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace),
    orphanDependents: q.get('orphanDependents') === 'true' || b.orphanDependents === true,
    preconditions: b.preconditions,
    dryRun: q.getAll('dryRun').includes('All') || (b.dryRun ?? []).includes('All'),
  };
}
