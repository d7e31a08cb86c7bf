// What a node gives back once it is at rest (issue 23: memory that stays flat). Two holders of
// memory outlive the bursts that grew them, and neither lets go by itself:
//  - glibc's heap. Blocks freed between blocks still in use stay with the process: glibc returns
//    only the free memory at the top of its heap. A fresh node's heap is 7 MiB; after 30,000 small
//    PUTs and 20,000 GETs it stayed at 52 MiB at rest (`[heap]` in smaps), nearly all of it free.
//    malloc_trim(0) hands every free page of every arena back.
//  - the metadata map's pages. lmdb maps its file in 64 KiB pieces and unmaps a piece only once
//    512 MiB of them are mapped, so every page a read ever touched counts in the RSS: 116–228 MiB
//    after the same workloads. madvise(MADV_PAGEOUT) on the map lets the kernel reclaim them; the
//    next read of a page reads it again. It is only advice: a page still in use, or a range that is
//    something else by the time the call runs, loses nothing (unlike MADV_DONTNEED, which would zero
//    an anonymous page mapped there meanwhile).
// At rest means no file API request and no data call from a peer (chunks, metadata) for REST_AFTER_MS,
// and none in flight: 10 s, as jemalloc's default decay of dirty pages (V8's own memory reducer starts
// ~8 s after activity drops). V8's last-resort collection runs first (what its memory reducer would
// do some seconds later): the heap shrinks to what is live, and the buffers it frees are in glibc's
// free lists before the trim. Giving back takes 60–230 ms of the event loop, once per rest; the
// first requests after a rest read their metadata pages again, from disk where the kernel reclaimed
// them (no slower within the noise here: docs/performance.md; CAIRN_REST_AFTER_MS=0 keeps everything). Node has no binding for either libc call; they go through koffi, an FFI library
// whose npm packages carry its prebuilt binaries. Where it or the calls are missing (another libc,
// another OS), the node keeps its memory, as before.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { collectAll } from '../util/gc.ts';
import { logger } from '../util/log.ts';

const log = logger('at-rest');

/** How long without requests makes a node at rest (V8's own memory reducer waits ~8 s). */
export const REST_AFTER_MS = 10_000;
/** Linux's madvise advice (include/uapi/asm-generic/mman-common.h): reclaim these pages. */
const MADV_PAGEOUT = 21;

/** An address range of this process's own mappings, from /proc/self/maps. */
export interface MappedRange {
  start: number;
  end: number;
}

/** The ranges mapped from `path` (an absolute path, as the kernel shows it), from /proc/self/maps text. */
export function rangesOf(maps: string, path: string): MappedRange[] {
  const out: MappedRange[] = [];
  for (const line of maps.split('\n')) {
    // start-end perms offset dev inode path (the path, last, may hold spaces)
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s+(.*)$/.exec(line);
    if (m && m[3] === path) out.push({ start: Number.parseInt(m[1], 16), end: Number.parseInt(m[2], 16) });
  }
  return out;
}

interface Libc {
  mallocTrim(pad: number): number;
  madvise(addr: number, length: number, advice: number): number;
}

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    // The address goes as an integer: it comes from /proc/self/maps, never from a JS object.
    const trim = lib.func('int malloc_trim(size_t pad)') as (pad: number) => number;
    const advise = lib.func('int madvise(uintptr_t addr, size_t length, int advice)') as (a: number, l: number, adv: number) => number;
    libc = { mallocTrim: trim, madvise: advise };
  } catch (e) {
    log.debug({ err: (e as Error).message }, 'libc not reachable: a node at rest keeps its memory');
    libc = null;
  }
  return libc;
}

/** What one giving back did: whether the process's heaps were collected and trimmed (and glibc
 *  released memory), and the bytes of mapped file advised out. */
export interface GivenBack {
  collected: boolean;
  trimmed: boolean;
  advisedBytes: number;
}

/** Nodes in one process (the tests' clusters) come to rest together: the heaps are the process's,
 *  collected and trimmed once for all of them. */
const COLLECT_EVERY_MS = 5_000;
let collectedAt = Number.NEGATIVE_INFINITY;

/** Give back glibc's free memory and the pages of the files `mapped` (absolute paths) that this process maps. */
export function giveBack(mapped: string[], now = Date.now()): GivenBack {
  const c = loadLibc();
  if (!c) return { collected: false, trimmed: false, advisedBytes: 0 };
  const collected = now - collectedAt >= COLLECT_EVERY_MS;
  let trimmed = false;
  if (collected) {
    collectedAt = now;
    collectAll();
    trimmed = c.mallocTrim(0) === 1;
  }
  let advisedBytes = 0;
  if (mapped.length) {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    for (const path of mapped) {
      for (const r of rangesOf(maps, path)) {
        // A range unmapped since the read answers ENOMEM: nothing to do there.
        if (c.madvise(r.start, r.end - r.start, MADV_PAGEOUT) === 0) advisedBytes += r.end - r.start;
      }
    }
  }
  return { collected, trimmed, advisedBytes };
}

/**
 * Notes the requests that make a node busy and calls `onRest` once each time it comes to rest:
 * `restAfterMs` after the last request ended, with none in flight (0: never).
 */
export class RestWatch {
  readonly #restAfterMs: number;
  readonly #onRest: () => void;
  #inFlight = 0;
  #lastEnd = Date.now();
  /** Whether the node has been busy since it last came to rest (so it gives back once per rest). */
  #dirty = true;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(o: { restAfterMs?: number; onRest: () => void }) {
    this.#restAfterMs = o.restAfterMs ?? REST_AFTER_MS;
    this.#onRest = o.onRest;
    this.#arm(this.#restAfterMs);
  }

  /** A request began; call the returned function once when it ends. */
  begin(): () => void {
    this.#inFlight++;
    this.#dirty = true;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#inFlight--;
      this.#lastEnd = Date.now();
      if (this.#inFlight === 0) this.#arm(this.#restAfterMs);
    };
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(ms: number): void {
    if (this.#timer || this.#stopped || this.#restAfterMs <= 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#inFlight > 0 || !this.#dirty) return; // the request's end arms it again
      const quiet = Date.now() - this.#lastEnd;
      if (quiet < this.#restAfterMs) return this.#arm(this.#restAfterMs - quiet);
      this.#dirty = false;
      this.#onRest();
    }, ms).unref();
  }
}
