// The built-in kinds' validation that an operator can trip over: workload selectors that do not
// match their pod template, containers without name or image, and the immutable parts of
// StatefulSet, Deployment selectors, PVC and Pod specs. Messages follow Kubernetes' wording.
import type { FieldError } from './errors.ts';
import type { ResourceType } from './registry.ts';
import { labelSelectorString, parseLabelSelector } from './selectors.ts';
import { storageBytes } from './admission.ts';
import type { KObject } from './store.ts';

type Any = Record<string, any>;
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const goMap = (m: Record<string, string> | undefined) =>
  `map[string]string{${Object.entries(m ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(', ')}}`;

function podSpecErrors(spec: Any | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const containers: Any[] = spec?.containers ?? [];
  if (!containers.length) errs.push({ field: `${path}.containers`, type: 'FieldValueRequired', detail: '' });
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const p = `${path}.containers[${i}]`;
    if (!c.name) errs.push({ field: `${p}.name`, type: 'FieldValueRequired', detail: '' });
    else if (names.has(c.name)) errs.push({ field: `${p}.name`, type: 'FieldValueDuplicate', badValue: c.name, detail: '' });
    names.add(c.name);
    if (!c.image) errs.push({ field: `${p}.image`, type: 'FieldValueRequired', detail: '' });
    (c.ports ?? []).forEach((port: Any, j: number) => {
      if (!(Number.isInteger(port.containerPort) && port.containerPort > 0 && port.containerPort < 65536)) {
        errs.push({
          field: `${p}.ports[${j}].containerPort`,
          type: 'FieldValueInvalid',
          badValue: port.containerPort ?? 0,
          detail: 'must be between 1 and 65535, inclusive',
        });
      }
    });
  });
  (spec?.topologySpreadConstraints ?? []).forEach((c: Any, i: number) => {
    const why = qualifiedNameProblem(c.topologyKey ?? '');
    if (why)
      errs.push({
        field: `${path}.topologySpreadConstraints[${i}].topologyKey`,
        type: 'FieldValueInvalid',
        badValue: c.topologyKey ?? '',
        detail: why,
        hasBadValue: true,
      });
  });
  return errs;
}

// apimachinery's IsQualifiedName: an optional DNS-subdomain prefix and a name of at most 63 characters.
const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
function qualifiedNameProblem(v: string): string | undefined {
  const parts = v.split('/');
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length > 2)
    return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
  if (parts.length === 2 && (!PREFIX.test(parts[0]!) || parts[0]!.length > 253))
    return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  if (name === '') return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME_PART.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  return undefined;
}

function workloadErrors(o: Any): FieldError[] {
  const errs: FieldError[] = [];
  const sel = o.spec?.selector;
  if (!sel) errs.push({ field: 'spec.selector', type: 'FieldValueRequired', detail: '' });
  else {
    const labels = o.spec?.template?.metadata?.labels ?? {};
    if (!labelSelectorString(sel) || !parseLabelSelector(labelSelectorString(sel))({ metadata: { labels } })) {
      errs.push({
        field: 'spec.template.metadata.labels',
        type: 'FieldValueInvalid',
        badValue: goMap(labels),
        detail: '`selector` does not match template `labels`',
        hasBadValue: true,
      });
    }
  }
  if (o.spec?.replicas !== undefined && (!Number.isInteger(o.spec.replicas) || o.spec.replicas < 0)) {
    errs.push({ field: 'spec.replicas', type: 'FieldValueInvalid', badValue: o.spec.replicas, detail: 'must be greater than or equal to 0' });
  }
  errs.push(...podSpecErrors(o.spec?.template?.spec, 'spec.template.spec'));
  return errs;
}

const stsMutable = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

/** Field errors of a built-in object (create when `old` is undefined, else update). */
// kube-apiserver's ValidateNonSpecialIP: an endpoint must be reachable from other nodes.
const LOOPBACK_DETAIL = 'may not be in the loopback range (127.0.0.0/8, ::1/128)';
const isLoopback = (ip: unknown) => typeof ip === 'string' && (ip.startsWith('127.') || ip === '::1');

function loopbackEndpointErrors(key: string, o: Any): FieldError[] {
  const errs: FieldError[] = [];
  if (key === '/endpoints') {
    (o.subsets ?? []).forEach((s: Any, i: number) => {
      for (const list of ['addresses', 'notReadyAddresses']) {
        (s[list] ?? []).forEach((a: Any, j: number) => {
          if (isLoopback(a.ip))
            errs.push({ field: `subsets[${i}].${list}[${j}].ip`, type: 'FieldValueInvalid', badValue: a.ip, detail: LOOPBACK_DETAIL, hasBadValue: true });
        });
      }
    });
  }
  if (key === 'discovery.k8s.io/endpointslices') {
    (o.endpoints ?? []).forEach((e: Any, i: number) => {
      (e.addresses ?? []).forEach((ip: unknown, j: number) => {
        if (isLoopback(ip))
          errs.push({ field: `endpoints[${i}].addresses[${j}]`, type: 'FieldValueInvalid', badValue: ip, detail: LOOPBACK_DETAIL, hasBadValue: true });
      });
    });
  }
  return errs;
}

export function validateBuiltin(
  t: ResourceType,
  obj: KObject,
  old: KObject | undefined,
  subresource?: string,
  behaviour: { refuseLoopbackEndpoints?: boolean } = {},
): FieldError[] {
  const o = obj as Any;
  const prev = old as Any | undefined;
  const key = `${t.group}/${t.resource}`;
  const errs: FieldError[] = [];
  if (behaviour.refuseLoopbackEndpoints) errs.push(...loopbackEndpointErrors(key, o));
  if (['apps/statefulsets', 'apps/deployments', 'apps/replicasets', 'apps/daemonsets'].includes(key)) {
    errs.push(...workloadErrors(o));
    if (prev && !same(o.spec?.selector, prev.spec?.selector))
      errs.push({ field: 'spec.selector', type: 'FieldValueInvalid', badValue: o.spec?.selector, detail: 'field is immutable', hasBadValue: true });
  }
  if (key === 'apps/statefulsets' && prev) {
    const strip = (s: Any | undefined) => Object.fromEntries(Object.entries(s ?? {}).filter(([k]) => !stsMutable.includes(k) && k !== 'selector'));
    if (!same(strip(o.spec), strip(prev.spec))) {
      errs.push({
        field: 'spec',
        type: 'FieldValueForbidden',
        detail:
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      });
    }
  }
  if (key === '/pods') {
    errs.push(...podSpecErrors(o.spec, 'spec'));
    if (prev && subresource !== 'binding' && subresource !== 'status') {
      // Pods may change container images, activeDeadlineSeconds and tolerations; nodeName goes through binding.
      const strip = (s: Any | undefined) => ({
        ...s,
        containers: (s?.containers ?? []).map((c: Any) => ({ ...c, image: undefined })),
        initContainers: (s?.initContainers ?? []).map((c: Any) => ({ ...c, image: undefined })),
        activeDeadlineSeconds: undefined,
        tolerations: undefined,
        terminationGracePeriodSeconds: undefined,
      });
      if (!same(strip(o.spec), strip(prev.spec)))
        errs.push({
          field: 'spec',
          type: 'FieldValueForbidden',
          detail:
            'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
        });
    }
  }
  if (key === '/persistentvolumeclaims' && prev) {
    const strip = (s: Any | undefined) => ({
      ...s,
      resources: { ...s?.resources, requests: undefined },
      volumeName: undefined,
      volumeAttributesClassName: undefined,
    });
    if (!same(strip(o.spec), strip(prev.spec))) {
      errs.push({
        field: 'spec',
        type: 'FieldValueForbidden',
        detail: 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
      });
    }
    // A claim never shrinks below what it has (RecoverVolumeExpansionFailure lets a failed growth be
    // taken back, down to status.capacity).
    const size = storageBytes(o.spec?.resources?.requests?.storage);
    const floor = storageBytes(prev.status?.capacity?.storage) ?? storageBytes(prev.spec?.resources?.requests?.storage);
    if (subresource !== 'status' && size !== undefined && floor !== undefined && size < floor) {
      errs.push({
        field: 'spec.resources.requests.storage',
        type: 'FieldValueForbidden',
        detail: prev.status?.capacity?.storage !== undefined ? 'field can not be less than status.capacity' : 'field can not be less than previous value',
      });
    }
  }
  if ((key === '/configmaps' || key === '/secrets') && prev) {
    if (prev.immutable === true) {
      if (!same(o.data, prev.data) || !same(o.binaryData, prev.binaryData))
        errs.push({ field: 'data', type: 'FieldValueForbidden', detail: 'field is immutable when `immutable` is set' });
      if (o.immutable !== true) errs.push({ field: 'immutable', type: 'FieldValueForbidden', detail: 'field is immutable when `immutable` is set' });
    }
    if (key === '/secrets' && (o.type ?? 'Opaque') !== (prev.type ?? 'Opaque'))
      errs.push({ field: 'type', type: 'FieldValueInvalid', badValue: o.type, detail: 'field is immutable' });
  }
  if (key === '/services') {
    const ports: Any[] = o.spec?.ports ?? [];
    if (!ports.length && o.spec?.clusterIP !== 'None' && o.spec?.type !== 'ExternalName')
      errs.push({ field: 'spec.ports', type: 'FieldValueRequired', detail: '' });
    if (prev?.spec?.clusterIP && o.spec?.clusterIP !== prev.spec.clusterIP)
      errs.push({ field: 'spec.clusterIPs[0]', type: 'FieldValueInvalid', badValue: o.spec?.clusterIP ?? '', detail: 'may not change once set' });
  }
  return errs;
}
