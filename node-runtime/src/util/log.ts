// JSON-lines logging for every component (pino). One root logger per process; components take a
// child with their name and ids, so each line says who wrote it. Secrets never go into fields.
import { pino, type Logger } from 'pino';

const root: Logger = pino({
  level: process.env.CAIRN_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'warn' : 'info'),
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
  redact: { paths: ['secret', 'secretKey', 'secretAccessKey', 'authorization', 'signature', '*.secret', '*.secretKey', '*.authorization'], censor: '[redacted]' },
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
