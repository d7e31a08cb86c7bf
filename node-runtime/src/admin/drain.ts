// Whether a member may start draining: a pure check made before anything is marked, so an operator
// (or the Kubernetes operator scaling down) gets a clear refusal instead of a drain that can never
// finish. Draining must leave enough active data members, zones and free space to hold R replicas
// of everything the member holds (DESIGN.md invariant 5: scaling down never reduces durability).
import type { BucketSettings, Member } from '../cluster/types.ts';
import { holdsData } from '../cluster/placement.ts';

/** The reason draining `m` is refused, or undefined when it may drain. */
export function drainProblem(m: Member, members: Member[], buckets: BucketSettings[], defaultReplicas: number): string | undefined {
  if (!holdsData(m)) return undefined; // a root-only member holds no data; nothing to move
  const active = members.filter((x) => holdsData(x) && x.state === 'active');
  const remaining = active.filter((x) => x.id !== m.id);
  const widest = buckets.reduce<{ r: number; name?: string }>((acc, b) => (b.replicas > acc.r ? { r: b.replicas, name: b.name } : acc), { r: defaultReplicas });
  const r = widest.r;
  const which = widest.name ? `bucket ${widest.name}` : 'the cluster default';
  if (remaining.length < r) {
    return `draining ${m.name} would leave ${remaining.length} active data member(s), fewer than the ${r} replicas of ${which}`;
  }
  const zonesBefore = new Set(active.map((x) => x.zone));
  const zonesAfter = new Set(remaining.map((x) => x.zone));
  const needZones = Math.min(r, zonesBefore.size);
  if (zonesAfter.size < needZones) {
    return `draining ${m.name} would leave ${zonesAfter.size} zone(s), fewer than the ${needZones} needed to keep the ${r} replicas of ${which} in distinct zones`;
  }
  const known = remaining.filter((x) => x.capacityBytes > 0);
  if (known.length === remaining.length && m.usedBytes > 0) {
    const free = known.reduce((a, x) => a + Math.max(0, x.capacityBytes - x.usedBytes), 0);
    if (free < m.usedBytes) return `draining ${m.name} needs ${m.usedBytes} bytes of free space on the remaining members; they have ${free}`;
  }
  return undefined;
}
