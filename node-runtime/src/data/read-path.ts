// The read path of an object body: the chunks covering the requested range, each fetched whole-
// or-slice from the best replica (self first, then placement order), verified, and failed over to
// the next replica on any error. A chunk is buffered and checked before any of its bytes are passed
// on, so the client never gets bytes that fail their hash (invariant 2); if every replica of a
// chunk is gone the stream fails with ServiceUnavailable instead of returning wrong bytes.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Readable } from 'node:stream';
import type { ClusterView } from '../cluster/types.ts';
import { rankAll } from '../cluster/placement.ts';
import type { ChunkBuffer } from '../chunks/buffer.ts';
import type { Grant } from '../chunks/memory.ts';
import { s3Error } from '../util/errors.ts';
import { isChunkError } from '../chunks/errors.ts';
import { logger } from '../util/log.ts';
import type { ChunkRef, ObjectVersion } from './types.ts';
import type { DataPlane } from './replicas.ts';
import { withSpan } from '../observability/tracing.ts';

const log = logger('read-path');

/** Pieces fetched ahead of the one being sent, per GET (memory: about that + 2 chunks). A
 *  single member reads its own disk (one ahead keeps it busy); in a cluster pieces may be remote
 *  round trips, where a second one in flight measurably helped (issue 8 figures). */
const prefetchDepth = (view: ClusterView) => (view.members().length > 1 ? 2 : 1);

export interface Piece {
  id: string;
  chunkSize: number;
  start: number;
  end: number;
} // inclusive, within the chunk

/** Resolve an HTTP range against a size (S3 rules); undefined range = the whole body. InvalidRange when unsatisfiable. */
export function resolveRange(size: number, range?: { start?: number; end?: number; suffix?: number }): { start: number; end: number } | undefined {
  if (!range) return undefined;
  if (range.suffix !== undefined) {
    if (range.suffix <= 0 || size === 0) throw s3Error('InvalidRange', undefined, { extra: { ActualObjectSize: String(size) } });
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  const start = range.start ?? 0;
  if (start >= size || (range.end !== undefined && range.end < start)) throw s3Error('InvalidRange', undefined, { extra: { ActualObjectSize: String(size) } });
  return { start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/** The chunk slices covering [start, end] (inclusive) of a body made of `chunks`. */
export function piecesFor(chunks: ChunkRef[], start: number, end: number): Piece[] {
  const out: Piece[] = [];
  let offset = 0;
  for (const c of chunks) {
    const cStart = offset,
      cEnd = offset + c.size - 1;
    offset += c.size;
    if (c.size === 0 || cEnd < start) continue;
    if (cStart > end) break;
    out.push({ id: c.id, chunkSize: c.size, start: Math.max(start, cStart) - cStart, end: Math.min(end, cEnd) - cStart });
  }
  return out;
}

/** Members to try for a chunk: self first when it stores data, then every member in placement rank,
 *  those that failed to answer lately last (a stopped member would hold each read for a timeout). */
export function chunkSources(view: ClusterView, id: string, suspected: (id: string) => boolean = () => false): string[] {
  const ranked = rankAll(id, view.members()).map((m) => m.id);
  const order = ranked.includes(view.selfId) ? [view.selfId, ...ranked.filter((m) => m !== view.selfId)] : ranked;
  return [...order.filter((m) => !suspected(m)), ...order.filter((m) => suspected(m))];
}

/** One verified piece, trying each source in turn, in a buffer the caller owns. */
export async function fetchPiece({ view, replicas, health }: DataPlane, p: Piece, signal?: AbortSignal): Promise<ChunkBuffer> {
  const whole = p.start === 0 && p.end === p.chunkSize - 1;
  const errors: string[] = [];
  for (const member of chunkSources(view, p.id, health && ((m) => health.suspected(m)))) {
    signal?.throwIfAborted();
    try {
      // One span per replica tried (a failed one shows as an error span before the next).
      return await withSpan(
        'chunk.get',
        { 'cairn.chunk': p.id, 'cairn.member': view.member(member)?.name ?? member, 'cairn.bytes': p.end - p.start + 1 },
        async () => {
          // A whole chunk from another member is hashed here (below), so that member need not hash it too.
          const remote = member !== view.selfId;
          const data = await replicas.chunks(member).getChunk(p.id, whole ? undefined : { start: p.start, end: p.end }, signal, whole && remote);
          try {
            const want = p.end - p.start + 1;
            if (data.length !== want) throw new Error(`got ${data.length} bytes, wanted ${want}`);
            // The one check of a whole chunk from another member: it was sent unhashed (see above)
            // and crossed a network. A range was verified by the member, which alone has the rest.
            // (A network body sits in a pool buffer of its own: the hash worker takes it by transfer.)
            if (remote && whole && (await data.hash()) !== p.id) throw new Error('hash mismatch: corrupt on that member or in transit');
            return data;
          } catch (e) {
            data.discard();
            throw e;
          }
        },
      );
    } catch (e) {
      if (signal?.aborted) throw e;
      errors.push(`${member}: ${e instanceof Error ? e.message : String(e)}`);
      // Self is always tried first (a local read is cheapest) even when it is not a holder, so a
      // local miss is routine, not worth a warning; any other failure is.
      const routine = member === view.selfId && isChunkError(e, 'ChunkNotFound');
      log[routine ? 'debug' : 'warn']({ chunk: p.id, member, err: String(e) }, 'chunk read failed, trying next replica');
    }
  }
  throw s3Error('ServiceUnavailable', `no replica could serve chunk ${p.id.slice(0, 12)} (${errors.join('; ') || 'no members'})`);
}

/** The body of an inline version over [start, end] (the whole body without a range); undefined when not inline. */
export function inlineBytes(v: ObjectVersion, range: { start: number; end: number } | undefined): Buffer | undefined {
  if (v.inline === undefined) return undefined;
  const data = Buffer.from(v.inline, 'base64');
  const start = range?.start ?? 0;
  const end = range?.end ?? v.size - 1;
  return end >= start ? data.subarray(start, end + 1) : Buffer.alloc(0);
}

/** A byte stream of one in-memory buffer. */
export function streamOf(data: Buffer): Readable {
  return Readable.from(data.length ? [data] : [], { objectMode: false });
}

/**
 * The version's body over [start, end], as the pieces a reader owns (`pieces`: it ends each once
 * nothing holds its bytes, so their memory is reused) or as a byte stream (`body`, for any other
 * reader; its pieces are left to the GC). Read one or the other. The first piece is fetched before
 * this resolves, so "all replicas gone" is an error response rather than a cut-off body.
 */
export async function openBody(
  plane: DataPlane,
  v: ObjectVersion,
  range: { start: number; end: number } | undefined,
  signal?: AbortSignal,
): Promise<{ body: Readable; pieces?: AsyncIterable<ChunkBuffer> }> {
  const start = range?.start ?? 0;
  const end = range?.end ?? v.size - 1;
  const inline = inlineBytes(v, range);
  if (inline) return { body: streamOf(inline) };
  const pieces = end >= start ? piecesFor(v.chunks, start, end) : [];
  const first = pieces.length ? await fetchPiece(plane, pieces[0], signal) : undefined;
  // Later pieces are fetched when the response stream pulls, i.e. from the socket's context: run
  // them in the request's (its trace span and request id) so their spans and logs stay with it.
  const inRequest = AsyncLocalStorage.snapshot();
  const fetchAt = (i: number): Promise<ChunkBuffer> => {
    const f = inRequest(() => fetchPiece(plane, pieces[i], signal));
    f.catch(() => {}); // awaited in turn below; a body abandoned early must not leave it unhandled
    return f;
  };
  async function* owned(): AsyncGenerator<ChunkBuffer> {
    // The next pieces (prefetchDepth) are read and verified (off the event loop) while this one goes out
    // on the socket: the disk, the hash workers, the network and (for a remote replica) the peer's
    // own disk overlap; a remote fetch is a round trip, so one piece ahead left the stream waiting.
    // Read-ahead memory comes from the node's read-ahead budget and is only tried for: when it is
    // spent, the stream fetches each piece when it needs it instead (it never waits for memory).
    const depth = prefetchDepth(plane.view);
    const ahead = new Map<number, { data: Promise<ChunkBuffer>; grant: Grant }>();
    const prefetch = (i: number) => {
      if (i >= pieces.length || ahead.has(i)) return;
      const grant = plane.memory.readAhead.tryTake(pieces[i].end - pieces[i].start + 1);
      if (grant) ahead.set(i, { data: fetchAt(i), grant });
    };
    try {
      for (let j = 1; j <= depth; j++) prefetch(j);
      if (first) yield first;
      for (let i = 1; i < pieces.length; i++) {
        const a = ahead.get(i);
        ahead.delete(i);
        const data = await (a ? a.data : fetchAt(i));
        a?.grant.release(); // now the piece being sent, no longer read-ahead
        for (let j = i + 1; j <= i + depth; j++) prefetch(j);
        yield data;
      }
    } finally {
      // An abandoned body: read-ahead still arriving goes back to the pool and the budget.
      for (const a of ahead.values())
        void a.data
          .then(
            (d) => d.release(),
            () => {},
          )
          .finally(() => a.grant.release());
    }
  }
  const gen = owned();
  // objectMode off: the high-water mark counts bytes, so only the prefetched piece is read ahead.
  return { body: Readable.from(bytesOf(gen), { objectMode: false }), pieces: aheadByOne(gen) };
}

/**
 * The pieces, the next one asked for as soon as the reader takes one (as a Readable does), so the
 * next fetch and the prefetches after it run while the reader sends this piece, not after. A piece
 * fetched ahead for a reader that stopped is released here.
 */
async function* aheadByOne(pieces: AsyncGenerator<ChunkBuffer>): AsyncGenerator<ChunkBuffer> {
  let next = pieces.next();
  try {
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = pieces.next();
      next.catch(() => {}); // awaited in turn; a reader that stops first must not leave it unhandled
      yield r.value;
    }
  } finally {
    void next
      .then(
        (r) => {
          if (!r.done) r.value.release();
        },
        () => {},
      )
      .finally(() => pieces.return(undefined));
  }
}

/** The bytes of owned pieces, for a reader that cannot end them: each is left to the GC once passed on. */
async function* bytesOf(pieces: AsyncIterable<ChunkBuffer>): AsyncGenerator<Buffer> {
  for await (const p of pieces) {
    const bytes = p.bytes;
    p.discard();
    yield bytes;
  }
}
