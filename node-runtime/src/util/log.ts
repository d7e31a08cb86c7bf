// JSON-lines logging for every component (pino). One root logger per process; components take a
// child with their name and ids, so each line says who wrote it. Secrets never go into fields.
import { pino, type Logger } from 'pino';

// Keys whose values are never written, at any depth (pino's redact paths only reach fixed depths;
// `…Name` keys such as a Kubernetes secretName are names, not secrets),
// and signatures/tokens inside strings (presigned URLs, Authorization header values).
const secretKey = /secret|password|passwd|token|signature|^authorization$|^proxy-authorization$|^cookie$|^set-cookie$/i;
const secretInString = /((?:X-Amz-Signature|X-Amz-Security-Token)=|Signature=)[^&\s",]+/gi;

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.replace(secretInString, '$1[redacted]');
  if (depth > 6 || value === null || typeof value !== 'object' || value instanceof Error || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = secretKey.test(k) && !/name$/i.test(k) ? '[redacted]' : scrub(v, depth + 1);
  return out;
}

// Fields merged into every line from the caller's async context (request id, trace id); set by
// observability/request-id.ts so this lowest layer does not depend on it.
let contextFields: () => Record<string, unknown> = () => ({});

const root: Logger = pino({
  level: process.env.CAIRN_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'warn' : 'info'),
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  mixin: () => contextFields(),
  // Messages too: a presigned URL interpolated into a message must not carry its signature.
  hooks: {
    logMethod(args, method) {
      method.apply(this, args.map((a) => (typeof a === 'string' ? scrub(a, 0) : a)) as Parameters<typeof method>);
    },
  },
  formatters: { level: (label) => ({ level: label }), log: (obj) => scrub(obj, 0) as Record<string, unknown> },
  redact: {
    paths: ['secret', 'secretKey', 'secretAccessKey', 'authorization', 'signature', '*.secret', '*.secretKey', '*.authorization'],
    censor: '[redacted]',
  },
});

export type { Logger };

/** A logger for one component, e.g. `logger('chunks', { node: id })`. */
export function logger(component: string, fields: Record<string, unknown> = {}): Logger {
  return root.child({ component, ...fields });
}

/** Set the process-wide level at run time (`trace`..`fatal`, `silent`). */
export function setLogLevel(level: string): void {
  root.level = level;
}

/** Install the provider of per-line context fields (request id, trace id); see observability/request-id.ts. */
export function setLogContext(fields: () => Record<string, unknown>): void {
  contextFields = fields;
}
