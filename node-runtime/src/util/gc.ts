// Socket pieces are garbage as soon as their bytes are copied into a chunk buffer or written to a
// file, but their memory is freed only when V8 next collects the young generation — and V8 decides
// that by how many *objects* were allocated, not by the memory outside the heap they hold. A 64 KiB
// socket piece is a ~100-byte object, so tens of MiB of pieces pile up between two collections
// (measured: external memory 27 → 103 MiB during one 1 GiB PUT, peak RSS 220 MiB against 168 for a
// 16 MiB one). Code that consumes a large body calls `consumed(bytes)`; every SCAVENGE_EVERY bytes
// it runs a young-generation collection (a scavenge: well under a millisecond for a young generation
// of socket pieces), so what a transfer holds no longer grows with what it has moved.
//
// `gc` is not exposed to the program's own global: the flag makes V8 give it to new contexts, and
// one such context hands it over. Nothing else in the process sees it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (o: { type: 'minor' | 'major'; flavor?: 'regular' | 'last-resort' }) => void;

/** Bytes of consumed socket pieces between two young-generation collections. */
export const SCAVENGE_EVERY = 8 * 1024 * 1024;

let gc: Gc | undefined;
let pending = 0;
/** Young-generation collections run so far (diagnostics; the tests read it). */
export let scavenges = 0;

function collector(): Gc | undefined {
  if (gc) return gc;
  setFlagsFromString('--expose-gc');
  const g = runInNewContext('typeof gc === "function" ? gc : undefined') as Gc | undefined;
  gc = g ?? (() => {}); // a runtime without it: keep going without the collections
  return gc;
}

/** Note `bytes` of large-body pieces that are now garbage; collect the young generation every SCAVENGE_EVERY. */
export function consumed(bytes: number): void {
  pending += bytes;
  if (pending < SCAVENGE_EVERY) return;
  pending = 0;
  scavenges++;
  collector()?.({ type: 'minor' });
}

/**
 * Every collectable byte collected now, and the heap shrunk to what is live: V8's "last resort"
 * collection (full collections that reduce memory, until one frees nothing), what its memory reducer
 * does some seconds into a quiet spell. For a node at rest (node/at-rest.ts): what it frees goes
 * back to glibc before glibc gives back.
 */
export function collectAll(): void {
  collector()?.({ type: 'major', flavor: 'last-resort' });
}
