// How one container of a Pod becomes a local process (pure): its environment (envFrom, env with
// value / secretKeyRef / configMapKeyRef / fieldRef / resourceFieldRef, `$(VAR)` expansion exactly as
// Kubernetes does it), its command line (`cairn` → this repo's CLI under the current Node), and the
// mapping of container mount paths to host directories: a process here shares the host file
// system, so every command/args/env/workingDir string that names a mount path (`/data`,
// `/data/x`, `--data=/data`) is rewritten to the volume's host directory.
import { join } from 'node:path';

export interface ConfigSource {
  /** Decoded data of a Secret (base64 already undone) or undefined when it does not exist. */
  secret(name: string): Record<string, string> | undefined;
  configMap(name: string): Record<string, string> | undefined;
  /** The same data as bytes, for volume files (a Secret may hold binary values); falls back to the text. */
  bytes?(kind: 'secret' | 'configMap', name: string): Record<string, Buffer> | undefined;
}

export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CreateContainerConfigError';
  }
}

/** Kubernetes `$(VAR)` expansion: defined names are replaced, `$$` escapes, unknown refs stay literal. */
export function expandVars(input: string, env: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i === input.length - 1) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close !== -1) {
        const name = input.slice(i + 2, close);
        out += Object.hasOwn(env, name) ? env[name] : input.slice(i, close + 1);
        i = close;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

/** A fieldRef path of the downward API, e.g. `status.podIP` or `metadata.labels['app']`. */
export function fieldRefValue(pod: any, fieldPath: string): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return pod.metadata?.[m[1]]?.[m[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.podIPs':
      return (pod.status?.podIPs ?? []).map((p: { ip: string }) => p.ip).join(',');
    case 'status.hostIP':
    case 'status.hostIPs':
      return pod.status?.hostIP ?? '127.0.0.1';
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath "${fieldPath}"`);
  }
}

const quantityUnits: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
/** A resource quantity ("500m", "2Gi") as a number. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q.trim());
  if (!m || !(m[2] in quantityUnits)) throw new ContainerConfigError(`bad quantity "${q}"`);
  return Number(m[1]) * quantityUnits[m[2]];
}

function resourceFieldValue(container: any, ref: { resource: string; divisor?: string }): string {
  const [kind, res] = ref.resource.split('.');
  const raw = container.resources?.[kind]?.[res] ?? container.resources?.limits?.[res];
  // Unset limits report node allocatable in Kubernetes; here "the machine": cores / bytes.
  const value = raw !== undefined ? parseQuantity(raw) : res === 'cpu' ? (globalThis.navigator?.hardwareConcurrency ?? 1) : 8 * 1024 ** 3;
  const divisor = parseQuantity(ref.divisor ?? '1');
  return String(Math.ceil(value / divisor));
}

/** The container's environment as Kubernetes builds it: envFrom first, then env in order. */
export function containerEnv(pod: any, container: any, src: ConfigSource): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const ref = from.secretRef ?? from.configMapRef;
    const data = from.secretRef ? src.secret(ref.name) : src.configMap(ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${from.secretRef ? 'secret' : 'configmap'} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(data)) env[(from.prefix ?? '') + k] = v;
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expandVars(e.value ?? '', env);
      continue;
    }
    const vf = e.valueFrom;
    if (vf.fieldRef) env[e.name] = fieldRefValue(pod, vf.fieldRef.fieldPath);
    else if (vf.resourceFieldRef) env[e.name] = resourceFieldValue(container, vf.resourceFieldRef);
    else if (vf.secretKeyRef || vf.configMapKeyRef) {
      const ref = vf.secretKeyRef ?? vf.configMapKeyRef;
      const kind = vf.secretKeyRef ? 'secret' : 'configmap';
      const data = vf.secretKeyRef ? src.secret(ref.name) : src.configMap(ref.name);
      if (!data) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
      }
      if (!Object.hasOwn(data, ref.key)) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in ${kind} ${pod.metadata?.namespace}/${ref.name}`);
      }
      env[e.name] = data[ref.key];
    } else throw new ContainerConfigError(`env ${e.name}: unsupported valueFrom`);
  }
  return env;
}

export interface Mount {
  mountPath: string;
  hostPath: string;
  readOnly?: boolean;
}

/** Container volumeMounts → host directories, given the pod's volumes prepared on disk. */
export function mountTable(container: any, volumeDirs: Record<string, string>): Mount[] {
  return (container.volumeMounts ?? []).map((m: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }) => {
    const dir = volumeDirs[m.name];
    if (dir === undefined) throw new ContainerConfigError(`volumeMount "${m.name}" names no volume of the pod`);
    return { mountPath: m.mountPath.replace(/\/+$/, '') || '/', hostPath: m.subPath ? join(dir, m.subPath) : dir, readOnly: m.readOnly };
  });
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replace mount paths inside a string at path boundaries: start, or after `=`, `:`, `,`, space;
 *  followed by end, `/` or one of those separators. The longest mount path wins. */
export function rewriteMountPaths(value: string, mounts: Mount[]): string {
  const sorted = [...mounts].filter((m) => m.mountPath !== '/').sort((a, b) => b.mountPath.length - a.mountPath.length);
  if (sorted.length === 0) return value;
  const re = new RegExp(`(^|[=:,\\s])(${sorted.map((m) => escapeRe(m.mountPath)).join('|')})(?=$|[/=:,\\s])`, 'g');
  return value.replace(re, (_all, pre: string, path: string) => pre + sorted.find((m) => m.mountPath === path)!.hostPath);
}

export interface ProcessSpec {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

/** The local command line: `cairn` (or an image without a command) → this repo's CLI under the
 *  running Node; `node` → the running Node (the machine's may be older); anything else as given. */
export function processSpec(container: any, env: Record<string, string>, mounts: Mount[], repoRoot: string, execPath: string): ProcessSpec {
  const fix = (s: string) => rewriteMountPaths(expandVars(s, env), mounts);
  let command: string[] = container.command ?? [];
  if (command.length === 0) {
    if (!/cairn/.test(container.image ?? ''))
      throw new ContainerConfigError(`container "${container.name}" has no command and image "${container.image}" is not the Cairn image`);
    command = ['cairn'];
  }
  const argv = [...command, ...(container.args ?? [])].map(fix);
  let file = argv[0];
  let args = argv.slice(1);
  if (file === 'cairn') {
    file = execPath;
    args = [join(repoRoot, 'node-runtime/bin/cairn.js'), ...args];
  } else if (file === 'node') file = execPath;
  const outEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) outEnv[k] = rewriteMountPaths(v, mounts);
  // A volume at /tmp is the container's temp dir: os.tmpdir() and most tools follow TMPDIR.
  const tmp = mounts.find((m) => m.mountPath === '/tmp');
  if (tmp && outEnv.TMPDIR === undefined) outEnv.TMPDIR = tmp.hostPath;
  return { file, args, env: outEnv, cwd: container.workingDir ? fix(container.workingDir) : undefined };
}
