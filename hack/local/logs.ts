// What of a local process's output reaches the terminal: its JSON log lines go to its log file, and
// only errors (level error or fatal: the runtime logs level labels, pino's numbers are read too) are
// shown, as one readable line each. Anything that is not a JSON log
// line (a crash's stack trace, a warning of Node itself) is shown as it is: it is rare and it matters.

/** The line to show for one output line of a process, or undefined to show nothing. */
export function errorLine(line: string): string | undefined {
  if (!line.trim()) return undefined;
  let rec: { level?: number | string; msg?: string; err?: unknown; component?: string; [k: string]: unknown };
  try {
    rec = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof rec !== 'object' || rec === null) return line;
  const level = typeof rec.level === 'number' ? rec.level : (levels[String(rec.level)] ?? 0);
  if (level < 50) return undefined;
  const err =
    rec.err === undefined ? '' : `: ${typeof rec.err === 'string' ? rec.err : ((rec.err as { message?: string })?.message ?? JSON.stringify(rec.err))}`;
  const reason = typeof rec.reason === 'string' ? ` (${rec.reason})` : '';
  return `${level >= 60 ? 'FATAL' : 'error'} [${rec.component ?? '?'}] ${rec.msg ?? ''}${err}${reason}`;
}

const levels: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
