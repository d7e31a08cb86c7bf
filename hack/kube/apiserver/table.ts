// Server-side printing (meta.k8s.io/v1 Table), what `kubectl get` asks for: Name plus per-kind
// columns for built-ins, additionalPrinterColumns for custom resources.
import { evalJsonPath } from './jsonpath.ts';
import type { PrinterColumn, ResourceType } from './registry.ts';
import type { KObject } from './store.ts';

type Col = { name: string; type: string; format?: string; description?: string; priority?: number };
type Cell = (o: KObject) => unknown;
type Any = Record<string, any>;

/** "5m", "3h", "2d" like kubectl's HumanDuration. */
export function age(ts: string | undefined, at = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((at - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  return d < 8 ? `${d}d${h % 24 ? `${h % 24}h` : ''}` : `${d}d`;
}

const name: [Col, Cell] = [{ name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' }, (o) => o.metadata.name];
const ageCol: [Col, Cell] = [
  { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' },
  (o) => age(o.metadata.creationTimestamp),
];
const s = (n: string, f: Cell, priority = 0): [Col, Cell] => [{ name: n, type: 'string', priority }, f];

function podReady(o: Any): string {
  const cs: Any[] = o.status?.containerStatuses ?? [];
  const total = (o.spec?.containers ?? []).length;
  return `${cs.filter((c) => c.ready).length}/${total}`;
}

function podStatus(o: Any): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  for (const c of o.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason) return c.state.waiting.reason;
    if (c.state?.terminated?.reason) return c.state.terminated.reason;
  }
  return o.status?.phase ?? 'Pending';
}

const builtinColumns: Record<string, [Col, Cell][]> = {
  '/pods': [
    name,
    s('Ready', podReady),
    s('Status', podStatus),
    [{ name: 'Restarts', type: 'string' }, (o: Any) => String((o.status?.containerStatuses ?? []).reduce((n: number, c: Any) => n + (c.restartCount ?? 0), 0))],
    ageCol,
    s('IP', (o: Any) => o.status?.podIP ?? '<none>', 1),
    s('Node', (o: Any) => o.spec?.nodeName ?? '<none>', 1),
  ],
  '/namespaces': [name, s('Status', (o: Any) => o.status?.phase ?? ''), ageCol],
  '/services': [
    name,
    s('Type', (o: Any) => o.spec?.type ?? 'ClusterIP'),
    s('Cluster-IP', (o: Any) => o.spec?.clusterIP ?? '<none>'),
    s('External-IP', () => '<none>'),
    s('Port(s)', (o: Any) => (o.spec?.ports ?? []).map((p: Any) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>'),
    ageCol,
  ],
  '/configmaps': [name, [{ name: 'Data', type: 'integer' }, (o: Any) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length], ageCol],
  '/secrets': [name, s('Type', (o: Any) => o.type ?? 'Opaque'), [{ name: 'Data', type: 'integer' }, (o: Any) => Object.keys(o.data ?? {}).length], ageCol],
  '/persistentvolumeclaims': [
    name,
    s('Status', (o: Any) => o.status?.phase ?? 'Pending'),
    s('Volume', (o: Any) => o.spec?.volumeName ?? ''),
    s('Capacity', (o: Any) => o.status?.capacity?.storage ?? ''),
    s('Access Modes', (o: Any) =>
      (o.spec?.accessModes ?? [])
        .map((m: string) => (({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' }) as Any)[m] ?? m)
        .join(','),
    ),
    s('StorageClass', (o: Any) => o.spec?.storageClassName ?? ''),
    ageCol,
  ],
  '/endpoints': [
    name,
    s(
      'Endpoints',
      (o: Any) =>
        (o.subsets ?? [])
          .flatMap((ss: Any) => (ss.addresses ?? []).flatMap((a: Any) => (ss.ports ?? [{}]).map((p: Any) => (p.port ? `${a.ip}:${p.port}` : a.ip))))
          .join(',') || '<none>',
    ),
    ageCol,
  ],
  'apps/statefulsets': [name, s('Ready', (o: Any) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`), ageCol],
  'apps/deployments': [
    name,
    s('Ready', (o: Any) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`),
    [{ name: 'Up-to-date', type: 'integer' }, (o: Any) => o.status?.updatedReplicas ?? 0],
    [{ name: 'Available', type: 'integer' }, (o: Any) => o.status?.availableReplicas ?? 0],
    ageCol,
  ],
  'apps/replicasets': [
    name,
    [{ name: 'Desired', type: 'integer' }, (o: Any) => o.spec?.replicas ?? 0],
    [{ name: 'Current', type: 'integer' }, (o: Any) => o.status?.replicas ?? 0],
    [{ name: 'Ready', type: 'integer' }, (o: Any) => o.status?.readyReplicas ?? 0],
    ageCol,
  ],
  'policy/poddisruptionbudgets': [
    name,
    s('Min Available', (o: Any) => String(o.spec?.minAvailable ?? 'N/A')),
    s('Max Unavailable', (o: Any) => String(o.spec?.maxUnavailable ?? 'N/A')),
    [{ name: 'Allowed Disruptions', type: 'integer' }, (o: Any) => o.status?.disruptionsAllowed ?? 0],
    ageCol,
  ],
  'coordination.k8s.io/leases': [name, s('Holder', (o: Any) => o.spec?.holderIdentity ?? ''), ageCol],
  '/events': [
    s('Last Seen', (o: Any) => age(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp)),
    s('Type', (o: Any) => o.type ?? ''),
    s('Reason', (o: Any) => o.reason ?? ''),
    s('Object', (o: Any) => `${(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name ?? ''}`),
    s('Message', (o: Any) => o.message ?? ''),
  ],
  'apiextensions.k8s.io/customresourcedefinitions': [name, [{ name: 'Created At', type: 'date' }, (o) => o.metadata.creationTimestamp]],
};

function cellValue(v: unknown[], c: PrinterColumn): unknown {
  if (v.length === 0) return null;
  const x = v.length === 1 ? v[0] : v.map((i) => (typeof i === 'object' ? JSON.stringify(i) : String(i))).join(',');
  if (c.type === 'date' && typeof x === 'string') return age(x);
  if (typeof x === 'object' && x !== null) return JSON.stringify(x);
  return x;
}

function columnsFor(t: ResourceType): [Col, Cell][] {
  if (t.crd) {
    const pcs = t.printerColumns;
    if (!pcs?.length) return [name, ageCol];
    return [
      name,
      ...pcs.map((c): [Col, Cell] => [
        { name: c.name, type: c.type === 'date' ? 'string' : c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 },
        (o) => {
          try {
            return cellValue(evalJsonPath(o, c.jsonPath), c);
          } catch {
            return null;
          }
        },
      ]),
    ];
  }
  return builtinColumns[`${t.group}/${t.resource}`] ?? [name, ageCol];
}

/** A Table for a list of objects (or one object), with `includeObject` = None | Metadata | Object. */
export function toTable(t: ResourceType, objects: KObject[], listMeta: Record<string, unknown>, includeObject = 'Metadata'): Record<string, unknown> {
  const cols = columnsFor(t);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: cols.map(([c]) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: cols.map(([, f]) => f(o) ?? null),
      object:
        includeObject === 'None'
          ? undefined
          : includeObject === 'Object'
            ? o
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}
