// Placement: which members hold an item (a chunk id, or `bucket:<name>` for a bucket's metadata).
//
// Why weighted rendezvous hashing (highest random weight, HRW):
// - It is a pure function of the item id and the member list. Every node computes the same answer
//   from its cached cluster map, with no placement table to store, version or gossip, and a node
//   whose map is a little stale still agrees with the others for every item whose candidates did
//   not change.
// - A join or a loss moves only the items whose top-R set changed: each member's score for an item
//   is independent of the other members, so adding member X only moves the items for which X now
//   scores among the top R (≈ R/N of them), and removing X only moves the items X held. Consistent
//   hashing with virtual nodes gets close to this only with many tokens per node and a ring to keep.
// - Weights are exact: with score = -weight / ln(u), u uniform in (0,1), each score is an
//   exponential race (1/score ~ Exp(weight)), so a member wins an item with probability
//   weight / Σweights. Capacity-proportional placement needs no tuning.
// - Zones: the first replicas go to distinct zones while there are zones left, so losing a zone
//   (rack, AZ) never loses every copy. We walk the ranking once taking only new zones, then fill
//   the rest by rank. With one zone (or none set) this is the plain HRW order.
// - Pins (`x-cairn-pin`) come first, in the order given, then the ranking fills up to R.
//
// Only members with the `node` role hold data (a root-only process is in the map but stores nothing).
// Only `active` members receive new placements: `joining` ones are not ready yet, `draining` and
// `drained` ones are leaving, `down` ones are unreachable. For reads and repair, `rankAll` ranks
// every member in the same order as if all were active, so the holders chosen when the item was
// written come first even when some of them have since changed state.
import type { Member } from './types.ts';

/** Ordered preference list of R members for an item (chunk id or `bucket:<name>`), highest first.
 *  Weighted rendezvous hashing over members in state `active` (draining/drained/down/joining get no
 *  new placements), zone-aware: first replicas in distinct zones while zones remain. `pin` names
 *  members (by id or name) that must come first. Returns fewer than r if not enough members. */
export function replicasFor(itemId: string, members: Member[], r: number, opts: { pin?: string[] } = {}): Member[] {
  const active = members.filter((m) => m.state === 'active' && holdsData(m));
  const chosen: Member[] = [];
  for (const p of opts.pin ?? []) {
    const m = active.find((x) => x.id === p) ?? active.find((x) => x.name === p);
    if (m && !chosen.includes(m) && chosen.length < r) chosen.push(m);
  }
  return zoneOrder(rank(itemId, active), r, chosen);
}

/**
 * Where a write of an item goes when some members may not answer: every active data member in
 * placement order (as `replicasFor`, pins first), with the members the caller suspects (they failed
 * to answer it lately) moved behind all others. The first R are the write's targets; the rest stand
 * in, in order, for a target that fails or does not answer in time. A copy that lands on a stand-in
 * is moved to where `replicasFor` wants it by repair once that member answers again (hinted handoff:
 * the stand-in holds a misplaced copy, repair copies it to the desired holders and drops its own).
 */
export function writeOrder(itemId: string, members: Member[], opts: { pin?: string[]; suspected?: (id: string) => boolean; chunk?: boolean } = {}): Member[] {
  const suspected = opts.suspected ?? (() => false);
  // A chunk never goes to a member whose disk takes none (metadata still does: it is small and the
  // disk's reserve is there for it).
  if (opts.chunk) members = members.filter(takesChunks);
  const answering = members.filter((m) => !suspected(m.id));
  const first = replicasFor(itemId, answering, answering.length, { pin: opts.pin });
  const rest = replicasFor(itemId, members, members.length, { pin: opts.pin }).filter((m) => suspected(m.id));
  return [...first, ...rest];
}

/** A member's data disk takes new chunks: not full, not failed (chunks/disk.ts). */
export function takesChunks(m: Member): boolean {
  return m.disk !== 'full' && m.disk !== 'failed';
}

/**
 * The desired holders of a chunk, for repair: `replicasFor` over the members that may keep it —
 * those whose disk takes new chunks, and those that hold it already. A full member keeps and serves
 * what it has (moving it away would only fill the others), and is never asked to take more; a chunk
 * written while it was full went to the next member of the order, which is then a desired holder
 * until the full one has room again (then repair moves the chunk to it).
 */
export function chunkHolders(chunkId: string, members: Member[], r: number, opts: { pin?: string[]; holds?: (id: string) => boolean } = {}): Member[] {
  const holds = opts.holds ?? (() => false);
  return replicasFor(
    chunkId,
    members.filter((m) => takesChunks(m) || holds(m.id)),
    r,
    { pin: opts.pin },
  );
}

/** Same ranking over all members with any state, for reads/repair (where might the item be?). */
export function rankAll(itemId: string, members: Member[]): Member[] {
  const holders = members.filter(holdsData);
  return zoneOrder(rank(itemId, holders), holders.length, []);
}

/** Only members with the `node` role store data; a root-only process coordinates but holds nothing. */
export function holdsData(m: Member): boolean {
  return m.roles.includes('node');
}

/** The score of a member for an item: higher wins. Exported for tests and diagnostics. */
export function score(itemId: string, member: Pick<Member, 'id' | 'weight'>): number {
  const u = hash01(member.id + '\u0000' + itemId);
  const w = member.weight > 0 && Number.isFinite(member.weight) ? member.weight : 1;
  return -w / Math.log(u);
}

function rank(itemId: string, members: Member[]): Member[] {
  // Tie-break on id so the order is total even in the (astronomically unlikely) event of equal scores.
  return members
    .map((m) => ({ m, s: score(itemId, m) }))
    .sort((a, b) => b.s - a.s || (a.m.id < b.m.id ? -1 : a.m.id > b.m.id ? 1 : 0))
    .map((x) => x.m);
}

// First distinct zones in rank order, then the rest in rank order, after what is already chosen.
function zoneOrder(ranked: Member[], r: number, chosen: Member[]): Member[] {
  const out = [...chosen];
  const zones = new Set(out.map((m) => m.zone));
  for (const m of ranked) {
    if (out.length >= r) return out;
    if (!zones.has(m.zone) && !out.includes(m)) {
      out.push(m);
      zones.add(m.zone);
    }
  }
  for (const m of ranked) {
    if (out.length >= r) return out;
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

// cyrb53 (public domain, bryc): a fast 53-bit string hash with good avalanche, the same on every
// platform and process. Cryptographic strength is not needed: ids are SHA-256 already and members are
// few; what matters is uniformity and that every node computes the same value.
function hash53(str: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Uniform in the open interval (0, 1), never exactly 0 or 1 (ln must stay finite and negative). */
function hash01(str: string): number {
  return (hash53(str) + 0.5) / 9007199254740992;
}
