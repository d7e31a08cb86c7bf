// Records for tests and benches that build cluster state in-process: a member of the cluster map and
// an object version, each with every required field at a plain default, overridden where a test
// cares. One place, so a new required field is added once.
import type { Member } from '../src/cluster/types.ts';
import type { ObjectVersion } from '../src/meta/records.ts';

/** An active storage member `id` (its name too) with no address, usage or heartbeat. */
export function testMember(id: string, over: Partial<Member> = {}): Member {
  return {
    id,
    name: id,
    roles: ['node'],
    api: '',
    cluster: '',
    zone: '',
    weight: 1,
    state: 'active',
    capacityBytes: 0,
    usedBytes: 0,
    lastHeartbeat: 0,
    ...over,
  };
}

let seq = 0;

/** A live 10-byte version of `key` in bucket b1 with a fresh version id (v1, v2, ...), written by n1 at 1000. */
export function testVersion(key: string, over: Partial<ObjectVersion> = {}): ObjectVersion {
  return {
    bucket: 'b1',
    key,
    versionId: `v${++seq}`,
    timestamp: 1000,
    writer: 'n1',
    deleted: false,
    size: 10,
    etag: 'e',
    userMeta: {},
    chunks: [],
    replicas: 1,
    ...over,
  };
}
