// The resource registry: which group/version/resource paths exist, their kinds and scopes. Built-in
// kinds are a fixed table; CustomResourceDefinitions add and remove entries at run time.
import type { JSONSchema } from './schema.ts';

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface ScaleSpec {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Has a status subresource: main-endpoint writes keep the stored status, status writes keep the rest. */
  status: boolean;
  scale?: ScaleSpec;
  /** Bump metadata.generation when anything but metadata/status changes. */
  generation: boolean;
  printerColumns?: PrinterColumn[];
  /** Structural schema of a custom resource version. */
  schema?: JSONSchema;
  /** Name of the CRD that defines it (custom resources only). */
  crd?: string;
  /** CRD selectableFields (jsonPaths without the leading dot). */
  selectableFields?: string[];
  /** Version that is the storage version (custom resources); objects are stored version-independently. */
  storageVersion?: string;
}

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function builtin(gv: string, resource: string, kind: string, opts: Partial<ResourceType> = {}): ResourceType {
  const [group, version] = gv.includes('/') ? gv.split('/') : ['', gv];
  return {
    group,
    version,
    resource,
    kind,
    singular: kind.toLowerCase(),
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: allVerbs,
    status: false,
    generation: false,
    ...opts,
  };
}

const replicasScale: ScaleSpec = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' };

export const builtinTypes: ResourceType[] = [
  builtin('v1', 'namespaces', 'Namespace', {
    namespaced: false,
    shortNames: ['ns'],
    status: true,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  }),
  builtin('v1', 'pods', 'Pod', { shortNames: ['po'], categories: ['all'], status: true, generation: true }),
  builtin('v1', 'services', 'Service', {
    shortNames: ['svc'],
    categories: ['all'],
    status: true,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  }),
  builtin('v1', 'endpoints', 'Endpoints', { shortNames: ['ep'], singular: 'endpoints' }),
  builtin('v1', 'configmaps', 'ConfigMap', { shortNames: ['cm'] }),
  builtin('v1', 'secrets', 'Secret'),
  builtin('v1', 'serviceaccounts', 'ServiceAccount', { shortNames: ['sa'] }),
  builtin('v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', { shortNames: ['pvc'], status: true }),
  builtin('v1', 'persistentvolumes', 'PersistentVolume', { namespaced: false, shortNames: ['pv'], status: true }),
  builtin('v1', 'events', 'Event', { shortNames: ['ev'] }),
  builtin('v1', 'bindings', 'Binding', { verbs: ['create'] }),
  builtin('v1', 'nodes', 'Node', { namespaced: false, shortNames: ['no'], status: true }),
  builtin('events.k8s.io/v1', 'events', 'Event', { shortNames: ['ev'] }),
  builtin('apps/v1', 'statefulsets', 'StatefulSet', { shortNames: ['sts'], categories: ['all'], status: true, generation: true, scale: replicasScale }),
  builtin('apps/v1', 'deployments', 'Deployment', { shortNames: ['deploy'], categories: ['all'], status: true, generation: true, scale: replicasScale }),
  builtin('apps/v1', 'replicasets', 'ReplicaSet', { shortNames: ['rs'], categories: ['all'], status: true, generation: true, scale: replicasScale }),
  builtin('apps/v1', 'daemonsets', 'DaemonSet', { shortNames: ['ds'], categories: ['all'], status: true, generation: true }),
  builtin('apps/v1', 'controllerrevisions', 'ControllerRevision'),
  builtin('batch/v1', 'jobs', 'Job', { categories: ['all'], status: true, generation: true }),
  builtin('policy/v1', 'poddisruptionbudgets', 'PodDisruptionBudget', { shortNames: ['pdb'], status: true, generation: true }),
  builtin('coordination.k8s.io/v1', 'leases', 'Lease'),
  builtin('discovery.k8s.io/v1', 'endpointslices', 'EndpointSlice'),
  builtin('apiextensions.k8s.io/v1', 'customresourcedefinitions', 'CustomResourceDefinition', {
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    status: true,
    generation: true,
  }),
  builtin('rbac.authorization.k8s.io/v1', 'roles', 'Role'),
  builtin('rbac.authorization.k8s.io/v1', 'rolebindings', 'RoleBinding'),
  builtin('rbac.authorization.k8s.io/v1', 'clusterroles', 'ClusterRole', { namespaced: false }),
  builtin('rbac.authorization.k8s.io/v1', 'clusterrolebindings', 'ClusterRoleBinding', { namespaced: false }),
  builtin('autoscaling/v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', {
    shortNames: ['hpa'],
    categories: ['all'],
    status: true,
    generation: true,
  }),
  builtin('autoscaling/v1', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', {
    shortNames: ['hpa'],
    categories: ['all'],
    status: true,
    generation: true,
  }),
  builtin('storage.k8s.io/v1', 'storageclasses', 'StorageClass', { namespaced: false, shortNames: ['sc'] }),
];

/** The lookup of served resources; mutable because CRDs come and go. */
export class Registry {
  private types: ResourceType[] = [...builtinTypes];

  all(): readonly ResourceType[] {
    return this.types;
  }

  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.resource === resource);
  }

  /** Any served version of group/resource (for GC and namespace cleanup, which are version-blind). */
  anyVersion(group: string, resource: string): ResourceType | undefined {
    return (
      this.types.find((t) => t.group === group && t.resource === resource && (!t.crd || t.storageVersion === t.version)) ??
      this.types.find((t) => t.group === group && t.resource === resource)
    );
  }

  byKind(group: string, kind: string): ResourceType | undefined {
    return (
      this.types.find((t) => t.group === group && t.kind === kind && (!t.crd || t.storageVersion === t.version)) ??
      this.types.find((t) => t.group === group && t.kind === kind)
    );
  }

  groupVersions(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.types) {
      const list = out.get(t.group) ?? [];
      if (!list.includes(t.version)) list.push(t.version);
      out.set(t.group, list);
    }
    return out;
  }

  setCustom(crdName: string, types: ResourceType[]): void {
    this.types = this.types.filter((t) => t.crd !== crdName).concat(types);
  }

  removeCustom(crdName: string): void {
    this.types = this.types.filter((t) => t.crd !== crdName);
  }
}
