// How a storage node's process is started, which only its command line can set. V8 sizes a heap's
// young generation for throughput on a large machine: it grew to 64 MiB here, most of a node's RSS
// at rest, and scavenging that much after a burst of small requests slowed the large PUTs that
// followed to half their speed (issue 23: 135–178 vs 277–317 MB/s). A young generation of at most
// 2 × 8 MiB keeps small-request throughput (measured in hack/bench) and bounds that memory. glibc
// gives every thread that allocates its own arena (hash workers, libuv's pool, lmdb), each holding
// freed memory; two arenas are enough for a process whose work is on one thread. And glibc raises
// its mmap threshold each time a large block is freed, after which chunk-sized buffers (1–4 MiB)
// come from the arenas and their memory stays with the process once freed; a fixed threshold keeps
// them mmapped, so the chunk pool's memory goes back to the system when the pool empties
// (chunks/buffer.ts).
//
// V8 starts marking the old generation as soon as the room left below its limit is less than the
// young generation's size. On a node that moves large bodies the old generation grows slowly (a few
// hundred KiB per scavenge) and V8, seeing a low allocation rate, sets each next limit only 1.2–1.4×
// above what survived: the room left starts just at that threshold, and a full mark-compact ran every
// 70–100 ms of a 64 MiB transfer (30–50 of them on one node where 7 were needed). A floor of 64 MiB
// under V8's limit (what --initial-old-space-size sets) leaves ~20 MiB of growth between collections
// on a node's usual heap (~30 MiB live), and changes nothing once V8's own limit is above it (the
// larger heaps of small-object workloads). Asking V8 instead to start marking at half the room (its
// --incremental-marking-soft-trigger) fixed the large transfers as well, but started marking earlier
// than V8's own rule on larger heaps and cost small requests CPU (docs/performance.md).
//
// V8 reads its heap layout once, at start (v8.setFlagsFromString is too late for it), and glibc
// reads its tunables once, so `cairn server` replaces itself once with these settings
// (process.execve: the same pid, so the kubelet, the launcher and the tests see one process and
// signal it as before). What a user set explicitly in NODE_OPTIONS or the environment wins.

export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=8';
export const OLD_GENERATION_FLOOR_FLAG = '--initial-old-space-size=64';
export const MALLOC_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' } as const;
/** Set in the replaced process, so it does not replace itself again. */
export const APPLIED_ENV = 'CAIRN_PROCESS_FLAGS';

export interface Invocation {
  execPath: string;
  execArgv: string[];
  argv: string[]; // process.argv: [node, script, ...args]
  env: Record<string, string | undefined>;
}

/** The command line and environment to replace this process with, or undefined to run as it is. */
export function tunedInvocation(p: Invocation): { file: string; args: string[]; env: Record<string, string> } | undefined {
  if (p.env[APPLIED_ENV]) return undefined;
  const given = `${p.execArgv.join(' ')} ${p.env.NODE_OPTIONS ?? ''}`;
  const flags: string[] = [];
  if (!/--max-semi-space-size\b/.test(given)) flags.push(YOUNG_GENERATION_FLAG);
  if (!/--initial-old-space-size\b/.test(given)) flags.push(OLD_GENERATION_FLOOR_FLAG);
  const env: Record<string, string> = { [APPLIED_ENV]: '1' };
  for (const [k, v] of Object.entries({ ...MALLOC_ENV, ...p.env })) if (v !== undefined) env[k] = v;
  return { file: p.execPath, args: [p.execPath, ...flags, ...p.execArgv, ...p.argv.slice(1)], env };
}
