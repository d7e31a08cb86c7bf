// Repair planning: the pure core of self-healing. For one item (a chunk, or a bucket's metadata
// partition) it compares where the item is with where placement wants it under the current map
// and says what to copy and what may be dropped. The repair worker only executes these plans.
//
// Rules (DESIGN.md invariants 1, 4, 5):
// - Desired holders are `chunkHolders(item, members, r, pin)`: active members only, so a draining
//   or down holder is never counted as desired and its copy is made elsewhere; a member with a full
//   disk only for the items it already holds.
// - A surplus copy is dropped only once *every* desired holder has confirmed the item: until then
//   the extra copy may be the one that keeps the item at R.
// - Copies are made from a live holder (active or draining: a draining node still serves reads).
// - Work is ordered by fewest live replicas first, so the items closest to loss are healed first.
import type { Member } from '../cluster/types.ts';
import { chunkHolders } from '../cluster/placement.ts';

export interface ItemState {
  id: string; // chunk id or `bucket:<name>`
  size: number; // bytes to move per copy
  r: number; // replication factor wanted
  pin?: string[];
  holders: string[]; // member ids confirmed to hold a good copy
}

export interface RepairPlan {
  id: string;
  size: number;
  desired: string[]; // member ids placement wants
  copyTo: string[]; // desired members that lack it
  source?: string; // a live holder to copy from (undefined = no live copy: lost for now)
  drop: string[]; // holders to remove the copy from (only when every desired holder has it)
  liveReplicas: number; // holders that can serve it now
  underReplicated: boolean; // fewer live replicas than min(r, possible holders)
  misplaced: boolean; // held somewhere placement does not want it
}

const live = (m: Member | undefined) => !!m && (m.state === 'active' || m.state === 'draining');

export function planItem(item: ItemState, members: Member[]): RepairPlan {
  const byId = new Map(members.map((m) => [m.id, m]));
  const holders = [...new Set(item.holders)];
  const desired = chunkHolders(item.id, members, item.r, { pin: item.pin, holds: (id) => holders.includes(id) }).map((m) => m.id);
  const liveHolders = holders.filter((h) => live(byId.get(h)));
  const copyTo = desired.filter((d) => !holders.includes(d));
  // Prefer an active holder as the source, a draining one otherwise.
  const source = liveHolders.find((h) => byId.get(h)?.state === 'active') ?? liveHolders[0];
  const allDesiredHold = copyTo.length === 0;
  const surplus = holders.filter((h) => !desired.includes(h));
  const drop = allDesiredHold ? surplus.filter((h) => byId.get(h)?.state !== 'down') : [];
  const want = Math.min(item.r, desired.length || item.r);
  return {
    id: item.id,
    size: item.size,
    desired,
    copyTo: source ? copyTo : [],
    source,
    drop,
    liveReplicas: liveHolders.length,
    underReplicated: desired.filter((d) => liveHolders.includes(d)).length < want,
    misplaced: surplus.length > 0,
  };
}
