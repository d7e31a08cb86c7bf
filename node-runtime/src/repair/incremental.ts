// Incremental repair: which parts of a pass may be left out because nothing they depend on changed
// since a pass that left nothing to do. The pure core of the worker's skip decisions.
//
// A pass depends on (a) placement — the member set with what placement reads (state, weight, zone,
// disk) and each bucket's R; (b) every partition's content on every data member, summarised by the
// partition digests (meta/digest.ts) each member keeps up to date on every write; (c) the chunks
// stored here (the store counts its changes); (d) the chunk counts the members report (a remote copy
// that vanished, a surplus copy dropped elsewhere). When all four are as a settled pass saw them, the
// chunk plan, the reference index and garbage collection would find what that pass found: nothing.
// Skipping is always safe for garbage collection — a skipped pass deletes nothing.
//
// Trust in the digests is bounded: every `fullEveryMs` a pass walks everything as before, so
// correctness never rests on them alone (a chunk file deleted behind the store's back, a digest
// collision).
import { createHash } from 'node:crypto';
import type { BucketSettings, Member } from '../cluster/types.ts';
import { sameDigest, type PartitionDigest } from '../meta/digest.ts';

/** Default period of the full safety-net pass (env CAIRN_REPAIR_FULL_INTERVAL_MS). */
export const DEFAULT_FULL_PASS_MS = 6 * 3600_000;

/** What a pass's chunk phase depends on. `digests` undefined: some member did not say (nothing is skipped). */
export interface PassInputs {
  placement: string;
  digests: string | undefined;
  localChunks: number;
}

/** What the last pass that planned chunks left behind. */
export interface SettledPass {
  inputs: PassInputs;
  /** Nothing left to do: no copy, drop or garbage pending, index complete, every partition confirmed. */
  settled: boolean;
  /** When an unreferenced chunk this pass kept (younger than the grace) becomes collectable (Infinity: none). */
  dueAt: number;
}

export type PassScope =
  | { kind: 'full'; reason: string } // walk everything, trust no digest
  | { kind: 'incremental'; chunks: boolean; reason: string }; // partitions by digest; chunk phase only when `chunks`

/** Pure: the scope of the next pass. */
export function passScope(o: {
  now: number;
  inputs: PassInputs;
  last: SettledPass | undefined;
  lastFullAt: number; // when the last full pass started (0: none yet)
  fullEveryMs: number;
  draining: boolean;
}): PassScope {
  if (o.lastFullAt === 0) return { kind: 'full', reason: 'first pass since start' };
  if (o.now - o.lastFullAt >= o.fullEveryMs) return { kind: 'full', reason: 'safety-net period' };
  const { last, inputs } = o;
  if (o.draining) return { kind: 'incremental', chunks: true, reason: 'draining: every chunk is checked' };
  if (!last) return { kind: 'incremental', chunks: true, reason: 'no settled pass yet' };
  if (!last.settled) return { kind: 'incremental', chunks: true, reason: 'the last pass left work' };
  if (inputs.digests === undefined) return { kind: 'incremental', chunks: true, reason: 'a member did not give its digests' };
  if (inputs.placement !== last.inputs.placement) return { kind: 'incremental', chunks: true, reason: 'placement changed' };
  if (inputs.digests !== last.inputs.digests) return { kind: 'incremental', chunks: true, reason: 'metadata changed' };
  if (inputs.localChunks !== last.inputs.localChunks) return { kind: 'incremental', chunks: true, reason: 'local chunks changed' };
  if (o.now >= last.dueAt) return { kind: 'incremental', chunks: true, reason: 'garbage became collectable' };
  return { kind: 'incremental', chunks: false, reason: 'nothing changed' };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Pure: a fingerprint of what placement and planning read from the map — every data member's id,
 * state, weight, zone, roles, disk and reported chunk count, and each bucket's R. Heartbeat figures
 * that move all the time (usage, last heartbeat) are left out; the chunk count is kept because a
 * holder that lost or dropped copies shows there first.
 */
export function placementFingerprint(members: Member[], buckets: Pick<BucketSettings, 'name' | 'replicas'>[]): string {
  const m = members
    .map((x) => [x.id, x.state, x.weight, x.zone, x.roles.join(','), x.disk ?? 'ok', x.chunks ?? -1].join('|'))
    .sort()
    .join('\n');
  const b = buckets
    .map((x) => `${x.name}|${x.replicas}`)
    .sort()
    .join('\n');
  return sha(`${m}\n--\n${b}`);
}

/** Pure: one fingerprint of every member's partition digests (undefined when any member's are unknown). */
export function digestsFingerprint(byMember: Map<string, Record<string, PartitionDigest> | undefined>): string | undefined {
  const lines: string[] = [];
  for (const [member, digests] of byMember) {
    if (!digests) return undefined;
    for (const [bucket, d] of Object.entries(digests)) lines.push(`${member}|${bucket}|${d.hash}|${d.entries}`);
  }
  return sha(lines.sort().join('\n'));
}

/** Pure: does `holder` hold exactly what this member holds of `bucket`? (unknown digests: no) */
export function holderInSync(local: Record<string, PartitionDigest>, remote: Record<string, PartitionDigest> | undefined, bucket: string): boolean {
  return remote !== undefined && sameDigest(local[bucket], remote[bucket]);
}
