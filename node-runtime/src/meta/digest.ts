// Partition digests: a summary of one bucket partition that two holders can compare in one call
// instead of walking every entry (the anti-entropy of Dynamo-style stores; Riak's AAE and Cassandra
// keep Merkle trees, Garage a Merkle trie per table partition).
//
// Why an XOR of entry hashes rather than a tree: XOR is order-free and its own inverse, so the
// store keeps it up to date in O(1) inside the transaction of every write (xor out the record a
// slot had, xor in the one it has now) and no holder ever rebuilds it. A tree would also say *which*
// keys differ; here a mismatch sends the pass to the merge-join of the whole partition (partitions.ts),
// which is what it did for every partition before. Equal digests mean nothing to push.
//
// What an entry hashes is exactly what decides whether a push sends it: a version's slot and its
// last-writer-wins stamp (meta/lww.ts) — two replicas whose records compare equal hold the same
// write, and a push sends nothing for it; an upload's id; a part's number and timestamp.
import { hash } from 'node:crypto';
import type { MultipartUpload, ObjectVersion, PartRecord } from './records.ts';
import { slotOf } from './slots.ts';

/** 128 bits as 32 hex digits, and how many entries were folded in (a cheap second check). */
export interface PartitionDigest {
  hash: string;
  entries: number;
}

export const EMPTY_DIGEST: PartitionDigest = Object.freeze({ hash: '0'.repeat(32), entries: 0 });

function hash128(text: string): Buffer {
  // md5 is not used for security here: a fast, well-spread 128-bit fingerprint of a record's identity
  // (the one-shot form: no hash object per write).
  return hash('md5', text, 'buffer');
}

export function versionEntry(v: Pick<ObjectVersion, 'key' | 'versioned' | 'versionId' | 'timestamp' | 'writer' | 'rev' | 'revBy'>): Buffer {
  return hash128(`v\0${v.key}\0${slotOf(v)}\0${v.timestamp}\0${v.writer}\0${v.versionId}\0${v.rev ?? 0}\0${v.revBy ?? ''}`);
}

export function uploadEntry(u: Pick<MultipartUpload, 'uploadId'>): Buffer {
  return hash128(`u\0${u.uploadId}`);
}

export function partEntry(uploadId: string, p: Pick<PartRecord, 'number' | 'timestamp'>): Buffer {
  return hash128(`p\0${uploadId}\0${p.number}\0${p.timestamp}`);
}

/** Fold an entry in (sign 1) or out (-1): XOR either way, the count moves. */
export function fold(d: PartitionDigest, entry: Buffer, sign: 1 | -1): PartitionDigest {
  return sign === 1 ? foldAll(d, [], [entry]) : foldAll(d, [entry], []);
}

/** Fold entries out and in at once (one decode and encode of the digest per write). */
export function foldAll(d: PartitionDigest, out: readonly Buffer[], into: readonly Buffer[]): PartitionDigest {
  const h = Buffer.from(d.hash, 'hex');
  for (const e of out) for (let i = 0; i < 16; i++) h[i] = h[i]! ^ e[i]!;
  for (const e of into) for (let i = 0; i < 16; i++) h[i] = h[i]! ^ e[i]!;
  return { hash: h.toString('hex'), entries: d.entries + into.length - out.length };
}

export function sameDigest(a: PartitionDigest | undefined, b: PartitionDigest | undefined): boolean {
  const x = a ?? EMPTY_DIGEST;
  const y = b ?? EMPTY_DIGEST;
  return x.hash === y.hash && x.entries === y.entries;
}
