// Zones of StatefulSet pods. A StatefulSet has one pod template, so the operator cannot give each
// pod its own `--zone`; it passes the cluster's zone list (CAIRN_ZONES=a,b,c) to every pod and each
// pod derives its own zone from the ordinal at the end of its name: pod i runs in zones[i % n].
// Consecutive ordinals land in distinct zones, so the first n nodes cover every zone and
// zone-aware placement (placement.ts) can put the first replicas of a chunk in distinct zones.

const zonePattern = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/** Pure: the zone names of a comma-separated list (`a, b,c` → ['a','b','c']); throws on a bad name or a duplicate. */
export function parseZones(list: string): string[] {
  const zones = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const z of zones) {
    if (!zonePattern.test(z)) throw new Error(`zone ${JSON.stringify(z)} is not a valid zone name (letters, digits, '.', '_', '-'; at most 63)`);
  }
  const dup = zones.find((z, i) => zones.indexOf(z) !== i);
  if (dup) throw new Error(`zone ${dup} is listed twice in ${JSON.stringify(list)}`);
  return zones;
}

/**
 * Pure: the zone of the member named `name` (a StatefulSet pod name such as `demo-nodes-4`) among
 * `zones`: zones[ordinal % zones.length]; '' when no zones are given. Throws when zones are given
 * but the name carries no `-<ordinal>` suffix, since guessing would silently break zone spreading.
 */
export function zoneForOrdinal(name: string, zones: readonly string[]): string {
  if (zones.length === 0) return '';
  const m = /-(\d+)$/.exec(name);
  if (!m)
    throw new Error(
      `cannot derive a zone from member name ${JSON.stringify(name)}: with zones set (CAIRN_ZONES) the name must end in -<ordinal>, as StatefulSet pod names do; or give --zone`,
    );
  return zones[Number(m[1]) % zones.length];
}
