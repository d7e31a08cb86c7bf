// Kubernetes protobuf request bodies for the few kinds kubectl's typed `create` subcommands send
// (`kubectl create namespace|configmap|secret|serviceaccount`): the runtime.Unknown envelope
// ("k8s\0" + typeMeta + raw) decoded with hand-written field maps. Anything else gets a 415.
import { unsupportedMediaType } from './errors.ts';

type Fields = Record<number, [string, 'string' | 'bytes' | 'bool' | 'varint' | 'strmap' | 'bytesmap' | 'strlist' | Fields | [Fields]]>;

const objectMeta: Fields = {
  1: ['name', 'string'],
  2: ['generateName', 'string'],
  3: ['namespace', 'string'],
  5: ['uid', 'string'],
  6: ['resourceVersion', 'string'],
  11: ['labels', 'strmap'],
  12: ['annotations', 'strmap'],
  14: ['finalizers', 'strlist'],
};
const localRef: Fields = { 1: ['name', 'string'] };
const kinds: Record<string, Fields> = {
  Namespace: { 1: ['metadata', objectMeta], 2: ['spec', { 1: ['finalizers', 'strlist'] }] },
  ConfigMap: { 1: ['metadata', objectMeta], 2: ['data', 'strmap'], 3: ['binaryData', 'bytesmap'], 4: ['immutable', 'bool'] },
  Secret: { 1: ['metadata', objectMeta], 2: ['data', 'bytesmap'], 3: ['type', 'string'], 4: ['stringData', 'strmap'], 5: ['immutable', 'bool'] },
  ServiceAccount: {
    1: ['metadata', objectMeta],
    2: ['secrets', [{ 1: ['kind', 'string'], 2: ['namespace', 'string'], 3: ['name', 'string'] }]],
    3: ['imagePullSecrets', [localRef]],
    4: ['automountServiceAccountToken', 'bool'],
  },
};

interface Field {
  no: number;
  wire: number;
  value: bigint | Buffer;
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      r |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return r;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const wire = key & 7;
    if (wire === 0) out.push({ no: key >> 3, wire, value: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ no: key >> 3, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

function decode(buf: Buffer, map: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields(buf)) {
    const spec = map[f.no];
    if (!spec) continue;
    const [name, type] = spec;
    const bytes = f.value as Buffer;
    if (type === 'string') out[name] = bytes.toString('utf8');
    else if (type === 'bytes') out[name] = bytes.toString('base64');
    else if (type === 'bool') out[name] = f.value !== 0n;
    else if (type === 'varint') out[name] = Number(f.value);
    else if (type === 'strlist') (out[name] = (out[name] as string[] | undefined) ?? ([] as string[])), (out[name] as string[]).push(bytes.toString('utf8'));
    else if (type === 'strmap' || type === 'bytesmap') {
      const entry = fields(bytes);
      const k = (entry.find((e) => e.no === 1)?.value as Buffer | undefined)?.toString('utf8') ?? '';
      const v = (entry.find((e) => e.no === 2)?.value as Buffer | undefined) ?? Buffer.alloc(0);
      ((out[name] ??= {}) as Record<string, string>)[k] = type === 'strmap' ? v.toString('utf8') : v.toString('base64');
    } else if (Array.isArray(type)) ((out[name] ??= []) as unknown[]).push(decode(bytes, type[0]));
    else out[name] = decode(bytes, type);
  }
  return out;
}

/** Decode a `application/vnd.kubernetes.protobuf` body into the JSON object it encodes. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  const refuse = () => unsupportedMediaType(['application/json', 'application/yaml']);
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw refuse();
  const unknown = fields(body.subarray(4));
  const typeMeta = decode((unknown.find((f) => f.no === 1)?.value as Buffer) ?? Buffer.alloc(0), { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] }) as {
    apiVersion?: string;
    kind?: string;
  };
  const raw = unknown.find((f) => f.no === 2)?.value as Buffer | undefined;
  const map = typeMeta.kind ? kinds[typeMeta.kind] : undefined;
  if (!map || !raw || (typeMeta.apiVersion ?? 'v1') !== 'v1') throw refuse();
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...decode(raw, map) };
}
