// Chunk repair for the chunks stored on this member: learn who else holds each one, plan it
// (plan.ts), copy it to desired holders that lack it, and drop the local copy once it is surplus.
//
// Who copies: every holder could, but then R holders would push the same bytes. The acting holder
// is the first *live* holder in rankAll order (a pure function of the map every member shares), so
// a member only asks the members ranked ahead of it whether they hold the chunk: if one does, that
// one acts. Asking more is never needed, and when a member ahead cannot be reached this one acts
// too (a duplicate copy is harmless: puts are idempotent and content-addressed).
import type { Member } from '../cluster/types.ts';
import type { ReplicaDirectory } from '../data/replicas.ts';
import { rankAll, replicasFor } from '../cluster/placement.ts';
import { planItem, type RepairPlan } from './plan.ts';
import type { ChunkRefs } from './refs.ts';

export interface LocalChunk extends ChunkRefs {
  id: string;
}

export interface ChunkTask {
  plan: RepairPlan;
  r: number;
  acts: boolean; // this member copies to plan's missing desired holders
  copyTo: string[]; // desired members that lack it (whoever copies)
  dropLocal: boolean; // the local copy is surplus and every desired holder has it
  fullyPlaced: boolean; // a full set of R desired holders all confirmed (drain check)
  buckets: string[]; // the buckets that reference it (progress per bucket)
}

const isLive = (m: Member | undefined) => !!m && (m.state === 'active' || m.state === 'draining');

/** The members to ask about a chunk: its desired holders and the live members ranked ahead of self. */
export function membersToAsk(selfId: string, c: LocalChunk, members: Member[]): string[] {
  const ask = new Set(replicasFor(c.id, members, c.r, { pin: c.pin }).map((m) => m.id));
  for (const m of rankAll(c.id, members)) {
    if (m.id === selfId) break;
    if (isLive(m)) ask.add(m.id);
  }
  ask.delete(selfId);
  return [...ask];
}

/** Pure: what to do with one local chunk given the holders confirmed among the members asked. */
export function chunkTask(selfId: string, c: LocalChunk, confirmed: Set<string>, members: Member[]): ChunkTask {
  const holders = [selfId, ...confirmed];
  const plan = planItem({ id: c.id, size: c.size, r: c.r, pin: c.pin, holders }, members);
  const copyTo = plan.desired.filter((d) => !holders.includes(d));
  let acts = true;
  for (const m of rankAll(c.id, members)) {
    if (m.id === selfId) break;
    if (isLive(m) && confirmed.has(m.id)) {
      acts = false;
      break;
    }
  }
  const fullyPlaced = plan.desired.length >= c.r && copyTo.length === 0;
  const dropLocal = fullyPlaced && !plan.desired.includes(selfId);
  return { plan, r: c.r, acts, copyTo, dropLocal, fullyPlaced, buckets: c.buckets };
}

/** Ask members in batches which of the ids they hold; a member that fails confirms nothing. */
export async function confirmHolders(replicas: ReplicaDirectory, asks: Map<string, string[]>, batch = 1000): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  await Promise.all(
    [...asks].map(async ([member, ids]) => {
      for (let i = 0; i < ids.length; i += batch) {
        const slice = ids.slice(i, i + batch);
        let has: boolean[];
        try {
          has = await replicas.chunks(member).hasChunks(slice);
        } catch {
          return;
        }
        slice.forEach((id, j) => {
          if (!has[j]) return;
          let s = out.get(id);
          if (!s) out.set(id, (s = new Set()));
          s.add(member);
        });
      }
    }),
  );
  return out;
}
