// Conditional writes (If-Match / If-None-Match on PutObject, CompleteMultipartUpload, DeleteObject,
// DeleteObjects; lifecycle's fenced deletes; object lock's removals): the condition is checked and
// the write made as one step with respect to every other writer of the key, on every node.
//
// How, with a bucket's metadata on R replicas written at W, newest wins:
//  1. Read the key at read quorum and check the condition against its current version (412 etc. here).
//  2. Reserve the key on the R *placed* holders (no stand-ins: a stand-in has no history to check
//     against): each replica grants the reservation only if no other conditional write holds the key,
//     nothing it holds is newer than what step 1 read (else the key changed since: start again from 1),
//     and nothing is stamped at or after this write. A reservation is durable and lapses after a lease.
//  3. With W reservations the write commits (written on the holders, releasing them); with fewer it
//     is released everywhere and nothing was written. W > R/2, so two conditional writes of one key
//     cannot both hold W: one fails (409 ConditionalRequestConflict) or retries after the other.
//  4. Every other write of the key is fenced (meta/store.ts writeVersion): a replica refuses a write
//     stamped before a reservation it holds or a change it has, and the coordinator stamps it again
//     later, so no write can land "under" a condition that did not see it. Every acknowledged write
//     is on W replicas and every reservation set is W, so they share one: the later one sees the other.
// Under failures: with fewer than W placed holders answering, a conditional write fails (503) rather
// than trust stand-ins; a coordinator that dies after reserving leaves the key held for the lease
// (writes of it wait or retry, then go on); one that dies while committing leaves the write on some
// holders, which repair spreads — the client got no answer, so either outcome is allowed. Writes that
// went to stand-ins during a failure are not fenced by holders they did not reach (docs/s3-semantics.md).
import { randomHex } from '../util/random.ts';
import { s3Error } from '../util/errors.ts';
import type { BucketSettings } from '../cluster/types.ts';
import { lastChangeOf, slotOf } from '../meta/slots.ts';
import type { ObjectVersion } from '../meta/records.ts';
import { compareVersions } from '../meta/lww.ts';
import { RESERVATION_LEASE_MS } from '../meta/store.ts';
import type { BucketMetadata, KeyVersions } from './metadata.ts';
import { writeQuorum } from './quorum.ts';

/** Conditional writes of a key tried at most this often when the key keeps changing under them. */
const ATTEMPTS = 4;

export interface ConditionalWrite {
  /**
   * Decide from the key as read: throw to refuse (PreconditionFailed, NoSuchKey, ...), return the
   * record to write, or undefined when there is nothing to write (a delete of what is not there).
   */
  decide(key: KeyVersions): ObjectVersion | undefined;
  /** 'revision': the record is a metadata change of one version (it keeps its stamp; only its slot
   *  must be unchanged). Default 'write': a new record, stamped past everything the key holds. */
  kind?: 'write' | 'revision';
}

/** Run a conditional write of `key`; resolves with the stored record, or undefined when nothing was written. */
export async function writeConditionally(meta: BucketMetadata, b: BucketSettings, key: string, w: ConditionalWrite): Promise<ObjectVersion | undefined> {
  for (let attempt = 1; ; attempt++) {
    const state = await meta.getKey(b, key);
    const decided = w.decide(state);
    if (!decided) return undefined;
    const revision = w.kind === 'revision';
    const last = lastChangeOf(state.records);
    const slot = revision ? slotOf(decided) : undefined;
    const expected = revision ? (state.records.find((r) => slotOf(r) === slot) ?? null) : (last ?? null);
    const v = revision ? decided : { ...decided, timestamp: meta.stamps.next(last?.timestamp) };
    const id = randomHex(12);
    const targets = meta.targets(b);
    const need = writeQuorum(b.replicas);
    if (targets.length < need) throw s3Error('ServiceUnavailable', `conditional write of ${key}: ${targets.length} metadata holders placed, ${need} needed`);
    const reservation = {
      id,
      timestamp: v.timestamp,
      expected: expected && pickStamp(expected),
      ...(slot !== undefined ? { slot } : {}),
      until: Date.now() + RESERVATION_LEASE_MS,
    };
    const answers = await Promise.all(
      targets.map(async (t) => ({
        t,
        out: await within(meta.metaTimeoutMs, meta.replica(t).reserveKey(b.name, key, reservation)).catch((e: unknown) => ({ failed: e }) as const),
      })),
    );
    const reserved = answers.filter((a) => 'reserved' in a.out).map((a) => a.t);
    const release = (ts: string[]) => Promise.allSettled(ts.map((t) => meta.replica(t).releaseKey(b.name, key, id)));
    if (reserved.length >= need) return commit(meta, b, v, id, reserved, targets);
    await release(reserved);
    const outs = answers.map((a) => a.out);
    const changed = outs.some((o) => 'changed' in o || 'staleAt' in o);
    const held = outs.some((o) => 'held' in o);
    if (attempt < ATTEMPTS && (changed || held)) {
      if (held) await new Promise((res) => setTimeout(res, 10 * 2 ** attempt + Math.random() * 20));
      continue;
    }
    if (held || changed) throw s3Error('ConditionalRequestConflict', undefined, { resource: key });
    const reasons = answers.filter((a) => 'failed' in a.out).map((a) => `${a.t}: ${String((a.out as { failed: unknown }).failed)}`);
    throw s3Error(
      'ServiceUnavailable',
      `conditional write of ${key}: ${reserved.length} of ${targets.length} metadata holders reserved it, ${need} needed (${reasons.join('; ')})`,
    );
  }
}

/**
 * Write the record on the holders that reserved it (each frees its reservation with it) and, without
 * waiting, on the other placed holders. Stored on W → done. Fewer (a holder failed after reserving):
 * the write may be on some holders, where repair will spread it, so the answer is 503 — not 412.
 */
async function commit(meta: BucketMetadata, b: BucketSettings, v: ObjectVersion, id: string, reserved: string[], targets: string[]): Promise<ObjectVersion> {
  const write = (t: string) => within(meta.metaTimeoutMs, meta.replica(t).writeVersion(v, { fence: 'commit', release: id }));
  for (const t of targets) if (!reserved.includes(t)) write(t).catch(() => {}); // repair brings the rest
  const outs = await Promise.allSettled(reserved.map(write));
  const stored = outs.flatMap((o) => (o.status === 'fulfilled' && 'stored' in o.value ? [o.value.stored] : []));
  void Promise.allSettled(reserved.map((t) => meta.replica(t).releaseKey(b.name, v.key, id))); // no-ops where it was stored
  if (stored.length < writeQuorum(b.replicas))
    throw s3Error('ServiceUnavailable', `conditional write of ${v.key}: stored on ${stored.length} of the ${reserved.length} holders that reserved it`);
  return stored.reduce((a, x) => (compareVersions(x, a) > 0 ? x : a));
}

const pickStamp = (v: ObjectVersion) => ({ timestamp: v.timestamp, writer: v.writer, versionId: v.versionId, rev: v.rev, revBy: v.revBy });

function within<T>(ms: number, p: Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (x) => {
        clearTimeout(timer);
        resolve(x);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
