// The write path of an object body: chunker → SHA-256 per chunk → placement → putChunk on the R
// chosen members in parallel, acknowledged at write quorum W; a member that fails or does not answer
// in time is stood in for by the next member of the placement order (hinted handoff, quorum.ts), so
// writes go on while R members answer, even before the roots have marked a dead one down. Pipelined with a bound: the next
// chunk is read while up to `inflight` earlier ones are hashed (on a worker) and uploaded, so one
// stream does not wait on each chunk's write + fsync round trip in turn, and memory stays at about
// inflight + 1 chunks whatever the body size. A chunk whose bytes every replica write already has
// (a local disk's fsync still running) holds no memory and no such slot: more uploads wait on their
// fsyncs (DURABLE_PER_INFLIGHT per slot) — and, across all streams, memory stays within the node's chunk
// memory budget (chunks/memory.ts): a stream waits for memory before it reads more of its body. The first failure stops the body: nothing new starts,
// the chunks already in flight are waited for, and the error is thrown (no metadata is written).
// Small bodies are kept inline instead.
// Nothing here writes metadata: the caller does that only after this resolved (invariant 3).
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { writeOrder } from '../cluster/placement.ts';
import { chunkStream } from '../chunks/chunker.ts';
import { noGrant, type Grant } from '../chunks/memory.ts';
import { BodyHasher, OFF_THREAD_MIN } from '../chunks/hasher.ts';
import { ChunkBuffer } from '../chunks/buffer.ts';
import { s3Error } from '../util/errors.ts';
import { chunkSeq, encryptChunk } from './sse.ts';
import { logger } from '../util/log.ts';
import type { ChunkRef } from './types.ts';
import type { DataPlane } from './replicas.ts';
import { handoffQuorum, writeQuorum } from './quorum.ts';
import { withSpan } from '../observability/tracing.ts';

const log = logger('write-path');

export interface BodyPlan {
  replicas: number; // R for the chunks
  pin?: string[];
  inlineMax: number; // 0 = never inline
  chunkSize: number;
  size?: number; // declared length
  contentMd5?: string; // base64
  signal?: AbortSignal;
  timeoutMs: number;
  /** A replica write unanswered this long gets a stand-in (default DEFAULT_HEDGE_MS). */
  hedgeMs?: number;
  inflight?: number; // chunks hashed/uploaded at once (default DEFAULT_INFLIGHT)
  /** Encrypt every chunk (data/sse.ts) under this data key before it is hashed and stored; `part` is
   *  the multipart part number (0 for a plain PUT), half of each chunk's nonce. */
  seal?: { dataKey: Buffer; part: number };
}

/**
 * How long a chunk replica write may go unanswered before the next member of the placement order
 * is written too. Far above a healthy write (tens of ms on a LAN, a few hundred under load), far
 * below the roots' failure verdict (seconds): a stopped member costs a write this much once, after
 * which this member suspects it (peer-health.ts) and writes around it at once.
 */
export const DEFAULT_HEDGE_MS = 2_000;

/** Chunks of one body whose bytes are held at once (being hashed or sent): its memory bound. */
export const DEFAULT_INFLIGHT = 6;
/** Chunk writes of one body in flight, per chunk whose bytes are held: the others only wait for
 *  their fsyncs (the local disk has the bytes), which hold no chunk memory. */
export const DURABLE_PER_INFLIGHT = 3;

export interface StoredBody {
  size: number;
  md5: string; // hex
  chunks: ChunkRef[];
  inline?: string; // base64
}

export async function storeBody(plane: DataPlane, body: Readable, plan: BodyPlan): Promise<StoredBody> {
  const expectedMd5 = plan.contentMd5 !== undefined ? decodeContentMd5(plan.contentMd5) : undefined;
  // A body known to be chunked has its MD5 taken on a hash worker along with each chunk's SHA-256
  // (BodyHasher), so the event loop does neither; small or unsized bodies get their MD5 here.
  // (An encrypted body hashes ciphertext, while its MD5 is of the plaintext: the MD5 stays here.)
  const hasher = !plan.seal && plan.size !== undefined && plan.size > plan.inlineMax && plan.chunkSize >= OFF_THREAD_MIN ? new BodyHasher() : undefined;
  const md5 = hasher ? undefined : createHash('md5');
  const chunks: ChunkRef[] = [];
  let size = 0;
  let inline: string | undefined;
  const depth = Math.max(1, Math.floor(plan.inflight ?? DEFAULT_INFLIGHT));
  // Chunk uploads in flight; each settles into this set's bookkeeping and never rejects, the first
  // failure is kept in `failed` and rethrown by the loop (so none goes unobserved meanwhile).
  const inflight = new Set<Promise<void>>();
  // Of those, the ones whose bytes are still held (until every replica write has them, see putChunkQuorum).
  const holding = new Set<Promise<void>>();
  let failed: { error: unknown } | undefined;
  const settleAll = async () => {
    while (inflight.size > 0) await Promise.all(inflight);
  };
  // Each large chunk's memory comes from the node's budget (chunks/memory.ts), reserved before the
  // chunker fills it; the chunk holds the grant and gives it back once every replica write of it
  // finished (or it was dropped).
  // A chunk's grant is a fill while the client sends it: if the client stops sending while other
  // writers wait for memory, the body fails (RequestTimeout) and the memory goes to them.
  const stalled = () => body.destroy(s3Error('RequestTimeout', 'The body stopped arriving while other uploads waited for memory.'));
  const reserve = (bytes: number): Promise<Grant> =>
    bytes >= OFF_THREAD_MIN ? plane.memory.chunks.take(bytes, plan.signal, { onStall: stalled }) : Promise.resolve(noGrant);
  const onAbort = () => body.destroy(plan.signal?.reason instanceof Error ? plan.signal.reason : new Error('client aborted the upload'));
  plan.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    plan.signal?.throwIfAborted();
    let index = 0;
    for await (const plain of chunkStream(body, plan.chunkSize, { size: plan.size, reserve })) {
      if (plan.signal?.aborted) {
        plain.release();
        plan.signal.throwIfAborted();
      }
      md5?.update(plain.bytes);
      size += plain.length;
      const plainLength = plain.length;
      if (plan.size !== undefined && size > plan.size) {
        plain.release();
        throw s3Error('InvalidRequest', `The body is longer than the declared ${plan.size} bytes.`);
      }
      const seq = index++;
      const chunk = plan.seal ? sealed(plain, plan.seal, seq) : plain;
      // The chunker yields full chunks except the last: a short first chunk is the whole body.
      if (!hasher && chunks.length === 0 && plainLength < plan.chunkSize && plainLength <= plan.inlineMax) {
        inline = chunk.bytes.toString('base64');
        chunk.release();
        continue;
      }
      // A free slot before this chunk starts: at most `depth` chunks' bytes held by uploads, and
      // DURABLE_PER_INFLIGHT times as many uploads in all.
      while ((holding.size >= depth || inflight.size >= depth * DURABLE_PER_INFLIGHT) && !failed) await Promise.race([...holding, ...inflight]);
      if (failed) {
        chunk.release();
        throw failed.error;
      }
      const { promise: freedAt, resolve: freed } = Promise.withResolvers<void>();
      const held = freedAt.then(() => {
        holding.delete(held);
      });
      holding.add(held);
      // The chunk ends once no replica write reads its bytes, which is before or when its upload settles.
      const end = (intact: boolean) => {
        if (intact) chunk.release();
        else chunk.discard();
        freed();
      };
      const ref: ChunkRef = { id: '', size: chunk.length, ...(plan.seal ? { seq: chunkSeq(plan.seal.part, seq) } : {}) };
      chunks.push(ref);
      // SHA-256 (and MD5) on a hash worker (the chunk's memory moves there and back), then the
      // upload, while the loop reads the next chunk here. The hasher sees chunks in body order
      // (MD5 needs it); the uploads may finish in any order, each fills in its own ref. The local
      // chunk store reuses the hash instead of computing it again.
      const upload: Promise<void> = chunk
        .hash(hasher)
        .then(
          (id) => {
            ref.id = id;
            if (failed) {
              end(false);
              return;
            } // another chunk failed: the body is abandoned, store nothing more
            // Once no replica write reads the chunk, its buffer is reused.
            return putChunkQuorum(plane, chunk, plan, end);
          },
          (error: unknown) => {
            end(false);
            throw error;
          },
        )
        .then(
          () => {
            inflight.delete(upload);
          },
          (error: unknown) => {
            inflight.delete(upload);
            failed ??= { error };
          },
        );
      inflight.add(upload);
    }
    await settleAll();
    if (failed) throw failed.error;
  } catch (e) {
    failed ??= { error: e }; // chunks still hashing do not start their upload
    await settleAll(); // nothing of this body is still being written when we throw
    throw e;
  } finally {
    plan.signal?.removeEventListener('abort', onAbort);
    hasher?.close().catch(() => {}); // ends the worker's MD5 session (also after a failure)
  }
  if (plan.size !== undefined && size < plan.size) throw s3Error('IncompleteBody', `Got ${size} of the declared ${plan.size} bytes.`);
  const digest = hasher ? Buffer.from(await hasher.close(), 'hex') : md5!.digest();
  if (expectedMd5 && !digest.equals(expectedMd5)) throw s3Error('BadDigest');
  if (inline !== undefined && chunks.length > 0) throw new Error('internal: inline body followed by chunks');
  if (size === 0) inline = '';
  return { size, md5: digest.toString('hex'), chunks, inline };
}

/** The chunk's ciphertext in a buffer of its own (the plaintext's memory goes back at once). */
function sealed(plain: ChunkBuffer, seal: { dataKey: Buffer; part: number }, index: number): ChunkBuffer {
  try {
    return ChunkBuffer.of(encryptChunk(seal.dataKey, seal.part, index, plain.bytes));
  } finally {
    plain.release();
  }
}

/**
 * Store one hashed chunk on R members, the first R of its placement order that answer; resolves at W
 * acknowledgements. `letGo` (optional) is told exactly once, whatever happens, when no replica write
 * reads the chunk's bytes any more, and whether they may be reused (`intact`: a failed request
 * across the network may still hold them); the caller ends the chunk then. That is when every write
 * started has finished, or sooner, when each one that has not finished told that its bytes are with
 * its disk (a local write making them durable): the next chunk need not wait for those fsyncs. Not
 * sooner after a write failed, whose stand-in will read the bytes. (A stand-in for a write that fails
 * after it had the bytes — a disk error in its fsync — finds them gone, and fails too.)
 */
export async function putChunkQuorum(
  plane: DataPlane,
  chunk: ChunkBuffer,
  plan: Pick<BodyPlan, 'replicas' | 'pin' | 'signal' | 'timeoutMs' | 'hedgeMs'>,
  letGo?: (intact: boolean) => void,
): Promise<void> {
  let reading = 0; // replica writes that may still read the bytes
  let failed = false; // a write failed before it had the bytes: its stand-in needs them
  let told = false;
  const tell = (intact: boolean) => {
    if (told) return;
    told = true;
    letGo?.(intact);
  };
  /** A replica write starts: it reads the bytes until it finished or has them (`done`, once). */
  const borrow = () => {
    reading++;
    let returned = false;
    return (ok: boolean) => {
      if (returned) return;
      returned = true;
      reading--;
      if (!ok) failed = true;
      else if (reading === 0 && !failed) tell(true);
    };
  };
  let handedOver = false;
  try {
    const id = chunk.id;
    if (id === undefined) throw new Error('internal: a chunk is placed by its hash, and this one has none yet');
    const { view, replicas, health } = plane;
    const members = view.members();
    const order = writeOrder(id, members, { pin: plan.pin, suspected: health && ((m) => health.suspected(m)), chunk: true }).map((m) => m.id);
    const need = writeQuorum(plan.replicas);
    // Not enough members can take a chunk because their disks are full: the cluster is out of room.
    if (order.length < need && writeOrder(id, members, { pin: plan.pin }).length >= need) {
      throw s3Error('InsufficientStorage', `chunk ${id.slice(0, 12)}: only ${order.length} member(s) have room for new chunks, ${need} needed`);
    }
    // One span per replica write (a no-op unless tracing is on); a remote one continues on that member.
    const put = (t: string, signal: AbortSignal) => {
      if (told) return Promise.reject(new Error(`chunk ${id.slice(0, 12)}: its bytes were let go once the other writes had them`));
      const done = borrow();
      return withSpan('chunk.put', { 'cairn.chunk': id, 'cairn.member': view.member(t)?.name ?? t, 'cairn.bytes': chunk.length }, () =>
        replicas.chunks(t).putChunk(id, chunk, chunk.length, signal, () => done(true)),
      ).then(
        () => done(true),
        (e: unknown) => {
          done(false);
          throw e;
        },
      );
    };
    handedOver = true;
    await handoffQuorum(order, plan.replicas, need, put, {
      timeoutMs: plan.timeoutMs,
      hedgeMs: plan.hedgeMs ?? DEFAULT_HEDGE_MS,
      what: `chunk ${id.slice(0, 12)} write`,
      signal: plan.signal,
      onSilent: (t) => {
        health?.unreachable(t);
        log.warn(
          { chunk: id, member: view.member(t)?.name ?? t, hedgeMs: plan.hedgeMs ?? DEFAULT_HEDGE_MS },
          'chunk replica write unanswered: writing the next member of the placement order',
        );
      },
      onLate: (t, error) => log.warn({ chunk: id, member: view.member(t)?.name ?? t, err: String(error) }, 'chunk replica write failed after quorum'),
      onSettled: ({ started, stored }) => tell(started > 0 && stored === started),
    });
  } finally {
    if (!handedOver) tell(false);
  }
}

function decodeContentMd5(b64: string): Buffer {
  const d = Buffer.from(b64, 'base64');
  if (d.length !== 16 || d.toString('base64') !== b64.trim()) throw s3Error('InvalidDigest');
  return d;
}
