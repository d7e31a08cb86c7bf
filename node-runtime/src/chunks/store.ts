// The content-addressed chunk store on one member's disk. A chunk lives at
// `<data>/chunks/<id[0..2]>/<id>` where id = hex SHA-256 of its bytes, so a file's name proves
// what it must contain: every write is verified before it becomes visible and every read before
// a byte leaves. Writes go to `<data>/tmp`, are fsynced, renamed into place and the directory is
// fsynced, so after a crash a chunk is either whole or absent; leftover temp files are removed at open.
import { createHash } from 'node:crypto';
import { randomHex } from '../util/random.ts';
import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, statfs, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ChunkError, assertChunkId, isChunkError } from './errors.ts';
import { sha256Off } from './hasher.ts';
import { ChunkBuffer } from './buffer.ts';
import { logger } from '../util/log.ts';
import { consumed } from '../util/gc.ts';

const log = logger('chunks');
/** Bytes of a streamed chunk gathered before one write (see putStream). */
const WRITE_BATCH = 1024 * 1024;
/** Direct I/O moves whole blocks of this size from memory aligned to it (the largest logical block size in use). */
const DIRECT_BLOCK = 4096;

export class ChunkStore {
  readonly dir: string;
  private readonly chunksDir: string;
  private readonly tmpDir: string;
  private used = 0;
  private count = 0;
  /** Per-chunk serialisation of put and collect, so a re-put can never race a garbage deletion. */
  private readonly locks = new Map<string, Promise<void>>();
  /** Prefix directories known to exist (durably): saves a mkdir per chunk write. */
  private readonly prefixes = new Set<string>();
  /** Bumped whenever a chunk appears, goes or is renewed here: a repair pass that sees it unchanged needs no new listing. */
  private changes = 0;
  /** Chunk files are written around the page cache: unknown until tried, false once the file system refused. */
  #direct: boolean | undefined;
  #refusedBuffer = false;
  #directWrites = 0;

  private constructor(dataDir: string) {
    this.dir = dataDir;
    this.chunksDir = join(dataDir, 'chunks');
    this.tmpDir = join(dataDir, 'tmp');
  }

  /**
   * Open (creating) the store under `dataDir`, remove stale temp files and count what is stored.
   * `directIo: false` writes every chunk file through the page cache.
   */
  static async open(dataDir: string, o: { directIo?: boolean } = {}): Promise<ChunkStore> {
    const s = new ChunkStore(dataDir);
    if (o.directIo === false) s.#direct = false;
    await mkdir(s.chunksDir, { recursive: true });
    await rm(s.tmpDir, { recursive: true, force: true });
    await mkdir(s.tmpDir, { recursive: true });
    for await (const id of s.ids()) {
      const st = await stat(s.path(id)).catch(() => undefined);
      if (st) {
        s.used += st.size;
        s.count++;
      }
    }
    log.debug({ dir: dataDir, chunks: s.count, bytes: s.used }, 'chunk store open');
    return s;
  }

  path(id: string): string {
    assertChunkId(id);
    return join(this.chunksDir, id.slice(0, 2), id);
  }

  /** Bytes of chunk data stored (tracked since open). */
  usedBytes(): number {
    return this.used;
  }
  chunkCount(): number {
    return this.count;
  }
  /** Chunk files written around the page cache since open (diagnostics; the tests read it). */
  get directWrites(): number {
    return this.#directWrites;
  }
  /** Changes to the stored set since open (in memory; see `changes`). */
  changeCount(): number {
    return this.changes;
  }

  /** Bytes still available to this process on the file system holding the store. */
  async freeBytes(): Promise<number> {
    const s = await statfs(this.dir);
    return s.bavail * s.bsize;
  }

  /** Total size of the file system holding the store. */
  async capacityBytes(): Promise<number> {
    const s = await statfs(this.dir);
    return s.blocks * s.bsize;
  }

  /**
   * Store a chunk durably. The bytes must hash to `id` and be `size` long (ChunkHashMismatch /
   * ChunkSizeMismatch otherwise, nothing stored). Idempotent: an existing, intact copy is kept; a
   * corrupt one is replaced. A ChunkBuffer stays its caller's (to release once every replica has it).
   * `written` (in-memory bodies) is told, at most once, when the bytes are no longer read: they are
   * with the disk (or an intact copy was found), and only making them durable is left, which can
   * take longer on a busy machine than hashing and writing them did (issue 23).
   */
  async put(id: string, body: ChunkBuffer | Buffer | Readable, size: number, signal?: AbortSignal, written?: () => void): Promise<void> {
    if (body instanceof ChunkBuffer || Buffer.isBuffer(body)) {
      assertChunkId(id);
      signal?.throwIfAborted();
      // A chunk the coordinator hashed in this process is not hashed twice; others off the event loop.
      const bytes = body instanceof ChunkBuffer ? body.bytes : body;
      checkBytes(id, size, bytes.length, (body instanceof ChunkBuffer ? body.id : undefined) ?? (await sha256Off(bytes)));
      await this.locked(id, () => this.putBuffer(id, bytes, body instanceof ChunkBuffer && body.aligned, signal, written));
      return;
    }
    // The stream's errors are observed from now on (the iterator below rethrows them); it is not
    // checked against an existing copy (the atomic rename makes re-storing one harmless).
    body.on('error', () => {});
    try {
      assertChunkId(id);
      signal?.throwIfAborted();
    } catch (e) {
      body.destroy();
      throw e;
    }
    await this.locked(id, () => this.putStream(id, body, size, signal));
  }

  private async putBuffer(id: string, body: Buffer, aligned: boolean, signal?: AbortSignal, written?: () => void): Promise<void> {
    const copy = await this.copyState(id);
    if (copy === 'intact') {
      written?.();
      // A re-put of a stored chunk renews its modification time: the garbage collector keeps
      // chunks younger than its grace period, and the new reference is not indexed yet.
      const now = new Date();
      await utimes(this.path(id), now, now);
      this.changes++;
      return;
    }
    await this.install(
      id,
      async (tmp) => {
        if (!(aligned && body.length >= DIRECT_BLOCK && this.#direct !== false && (await this.writeDirect(tmp, body, written))))
          await writeBuffered(tmp, (fd) => fd.write(body, 0, body.length), 'w', written);
        signal?.throwIfAborted(); // the writer gave up: do not make the chunk visible
        return body.length;
      },
      copy === 'absent',
    );
  }

  /**
   * Write `body` to a new file around the page cache, and fsync it; false when the file system or
   * the kernel refused (nothing written then). A chunk is written once and read rarely soon after,
   * so the page cache would only cost a copy of every byte and memory that is not free: on the
   * development VM new page-cache pages made a 4 MiB buffered write take 10–16 ms, against ~3 ms
   * direct (issue 23). The part past the last whole block (a body's short last chunk) goes through
   * the page cache: O_DIRECT moves whole blocks only.
   */
  private async writeDirect(tmp: string, body: Buffer, written?: () => void): Promise<boolean> {
    const head = body.length - (body.length % DIRECT_BLOCK);
    let fd: FileHandle;
    try {
      fd = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      this.#direct = false; // the file system has no direct I/O (tmpfs)
      log.info({ dir: this.dir }, 'chunk files go through the page cache: the file system refuses O_DIRECT');
      return false;
    }
    try {
      if (head > 0) {
        let done = 0;
        while (done < head) {
          const { bytesWritten } = await fd.write(body, done, head - done, done);
          if (bytesWritten <= 0) throw new Error(`direct write of ${tmp} made no progress at ${done} of ${head} bytes`);
          done += bytesWritten;
        }
      }
    } catch (e) {
      await fd.close().catch(() => {});
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      if (!this.#refusedBuffer) log.warn({ dir: this.dir }, 'the kernel refused a chunk buffer for direct I/O (not aligned): written through the page cache');
      this.#refusedBuffer = true;
      return false;
    }
    this.#direct = true;
    this.#directWrites++;
    // Once `written` was told, nothing here reads `body` again: no fallback past this point.
    try {
      if (head === body.length) {
        written?.();
        await fd.sync();
      }
    } finally {
      await fd.close();
    }
    if (head < body.length) await writeBuffered(tmp, (tail) => tail.write(body, head, body.length - head, head), 'r+', written);
    return true;
  }

  private async putStream(id: string, body: Readable, size: number, signal?: AbortSignal): Promise<void> {
    await this.install(id, (tmp) =>
      writeBuffered(tmp, async (fd) => {
        const h = createHash('sha256');
        let n = 0;
        // Network pieces are small (~64 KiB): they are gathered and written WRITE_BATCH at a time
        // with one writev, instead of one thread-pool round trip per piece.
        let batch: Buffer[] = [];
        let batched = 0;
        const flush = async () => {
          if (batched > 0) {
            await fd.writev(batch);
            batch = [];
            batched = 0;
          }
        };
        for await (const piece of body) {
          signal?.throwIfAborted();
          const b = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
          h.update(b);
          n += b.length;
          if (n > size) throw new ChunkError('ChunkSizeMismatch', id, `chunk ${id} longer than declared ${size} bytes`);
          batch.push(b);
          batched += b.length;
          consumed(b.length); // written out below before the next collection can matter (util/gc.ts)
          if (batched >= WRITE_BATCH) await flush();
        }
        await flush();
        checkBytes(id, size, n, h.digest('hex'));
        return n;
      }),
    ).catch((e) => {
      body.destroy();
      throw e;
    });
  }

  /** The whole chunk, verified (ChunkNotFound / ChunkCorrupt), in a buffer the caller owns. */
  async get(id: string): Promise<ChunkBuffer> {
    const data = await this.getUnverified(id);
    let hex: string;
    try {
      hex = await data.hash(); // on a hash worker; the memory moves there and back
    } catch (e) {
      data.discard();
      throw e;
    }
    if (hex !== id) {
      log.error({ chunk: id, size: data.length }, 'corrupt chunk on disk');
      data.release();
      throw new ChunkError('ChunkCorrupt', id, `chunk ${id} is corrupt on disk`);
    }
    return data;
  }

  /**
   * The whole chunk as it is on disk, not verified (ChunkNotFound): only for a caller that hashes
   * every byte it receives before using any (a remote reader, see ChunkReplica.getChunk).
   */
  async getUnverified(id: string): Promise<ChunkBuffer> {
    assertChunkId(id);
    try {
      return await readWhole(this.path(id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ChunkError('ChunkNotFound', id, `chunk ${id} not found`);
      throw e;
    }
  }

  /** [start, end] inclusive of the chunk; the whole chunk is verified before the slice is served. */
  async read(id: string, range?: { start: number; end: number }): Promise<ChunkBuffer> {
    const data = await this.get(id);
    if (!range) return data;
    try {
      return data.narrow(range.start, range.end);
    } catch (e) {
      data.release();
      throw e;
    }
  }

  async has(id: string): Promise<boolean> {
    return (await stat(this.path(id)).catch(() => undefined)) !== undefined;
  }

  async delete(id: string): Promise<void> {
    await this.locked(id, () => this.unlinkIf(id, () => true).then(() => {}));
  }

  /**
   * Garbage collection: delete the chunk only if its modification time is still `mtimeMs` (what
   * the collector saw when it found no reference). Serialised with puts of the same id, so a chunk
   * re-put in between (which renews the time) is kept. Returns the bytes freed (0 when kept).
   */
  async collect(id: string, mtimeMs: number): Promise<number> {
    return this.locked(id, () => this.unlinkIf(id, (st) => st.mtimeMs === mtimeMs));
  }

  private async unlinkIf(id: string, ok: (st: import('node:fs').Stats) => boolean): Promise<number> {
    const p = this.path(id);
    const st = await stat(p).catch(() => undefined);
    if (!st || !ok(st)) return 0;
    try {
      await unlink(p);
      this.changes++;
      this.used -= st.size;
      this.count--;
      return st.size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      return 0;
    }
  }

  private async locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.then(
      () => {},
      () => {},
    );
    this.locks.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }

  /** Every stored chunk id (directory order). */
  async *ids(): AsyncGenerator<string> {
    for (const prefix of (await readdir(this.chunksDir)).sort()) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const name of await readdir(join(this.chunksDir, prefix))) {
        if (/^[0-9a-f]{64}$/.test(name) && name.startsWith(prefix)) yield name;
      }
    }
  }

  /** Whether a copy exists and verifies; a corrupt one will be replaced. */
  private async copyState(id: string): Promise<'intact' | 'corrupt' | 'absent'> {
    try {
      (await this.get(id)).release();
      return 'intact';
    } catch (e) {
      return isChunkError(e, 'ChunkNotFound') ? 'absent' : 'corrupt';
    }
  }

  /** Write via a temp file (`fill` writes and fsyncs it), rename into place, fsync the directory. */
  private async install(id: string, fill: (tmp: string) => Promise<number>, knownAbsent = false): Promise<void> {
    const tmp = join(this.tmpDir, `${id}.${randomHex(6)}`);
    let size: number;
    try {
      size = await fill(tmp);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
    const dir = join(this.chunksDir, id.slice(0, 2));
    const final = join(dir, id);
    // (Under the chunk's lock: nothing else can create or remove it meanwhile.)
    const previous = knownAbsent ? undefined : await stat(final).catch(() => undefined);
    try {
      // A new prefix directory must itself be durable in its parent, or a power loss could drop it.
      if (!this.prefixes.has(dir)) {
        if (await mkdir(dir, { recursive: true })) await syncDir(this.chunksDir);
        this.prefixes.add(dir);
      }
      await rename(tmp, final);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
    await syncDir(dir);
    this.changes++;
    if (previous) this.used -= previous.size;
    else this.count++;
    this.used += size;
  }
}

/**
 * The whole file in one buffer of its own (so a hash worker can take it by transfer), filled
 * with as few reads as the kernel allows rather than readFile's 512 KiB steps.
 */
async function readWhole(path: string): Promise<ChunkBuffer> {
  const fd = await open(path, 'r');
  let data: ChunkBuffer | undefined;
  try {
    const size = (await fd.stat()).size;
    data = ChunkBuffer.take(size);
    const bytes = data.bytes;
    let got = 0;
    while (got < size) {
      const { bytesRead } = await fd.read(bytes, got, size - got, got);
      if (bytesRead === 0) break; // shrank under us: the hash check rejects the short copy
      got += bytesRead;
    }
    if (got === size) return data;
    if (got > 0) return data.narrow(0, got - 1);
    data.release();
    return ChunkBuffer.of(Buffer.alloc(0));
  } catch (e) {
    data?.discard();
    throw e;
  } finally {
    await fd.close();
  }
}

/** Create (or, with 'r+', open) `path`, write with `write`, tell `written`, fsync, close. */
async function writeBuffered<T>(path: string, write: (fd: FileHandle) => Promise<T>, flags = 'w', written?: () => void): Promise<T> {
  const fd = await open(path, flags, 0o600);
  try {
    const out = await write(fd);
    written?.();
    await fd.sync();
    return out;
  } finally {
    await fd.close();
  }
}

function checkBytes(id: string, want: number, got: number, hash: string): void {
  if (got !== want) throw new ChunkError('ChunkSizeMismatch', id, `chunk ${id}: got ${got} bytes, declared ${want}`);
  if (hash !== id) throw new ChunkError('ChunkHashMismatch', id, `chunk bytes hash to ${hash}, not ${id}`);
}

async function syncDir(dir: string): Promise<void> {
  const fd = await open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}
