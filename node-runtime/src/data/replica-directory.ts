// Which replica a coordinator calls for a member: this member's own stores directly (no RPC), any
// other member's over internal RPC at the cluster address the map gives for it (one client object
// per member, replaced when its address changes). Placement only ever names members of the map, so
// a member that is not in it, or this member when it stores nothing, is ServiceUnavailable.
import type { Member } from '../cluster/types.ts';
import type { RpcClient } from '../rpc/client.ts';
import { s3Error } from '../util/errors.ts';
import type { ChunkReplica, MetaReplica, ReplicaDirectory } from './replicas.ts';
import { RemoteChunkReplica, RemoteMetaReplica } from './remote-replica.ts';

export interface MemberReplicasOptions {
  selfId: string;
  /** The member as the cluster map has it now (its cluster address and name). */
  member(id: string): Member | undefined;
  /** This member's stores; absent on a root-only process (it holds no data). */
  local?: { chunks: ChunkReplica; meta: MetaReplica };
  /** Internal RPC to the other members; absent in a cluster of one (there is nobody to call). */
  rpc?: RpcClient;
}

export class MemberReplicas implements ReplicaDirectory {
  readonly #o: MemberReplicasOptions;
  readonly #remotes = new Map<string, { url: string; chunks: RemoteChunkReplica; meta: RemoteMetaReplica }>();

  constructor(o: MemberReplicasOptions) {
    this.#o = o;
  }

  chunks(memberId: string): ChunkReplica {
    if (memberId === this.#o.selfId && this.#o.local) return this.#o.local.chunks;
    return this.#remote(memberId).chunks;
  }

  meta(memberId: string): MetaReplica {
    if (memberId === this.#o.selfId && this.#o.local) return this.#o.local.meta;
    return this.#remote(memberId).meta;
  }

  #remote(memberId: string) {
    const m = this.#o.member(memberId);
    if (!m) throw s3Error('ServiceUnavailable', `member ${memberId} is not in the cluster map`);
    if (memberId === this.#o.selfId) throw s3Error('ServiceUnavailable', `this member (${m.name}) stores no data`);
    const rpc = this.#o.rpc;
    if (!rpc) throw s3Error('ServiceUnavailable', `member ${m.name} cannot be reached: this process runs a cluster of one`);
    let r = this.#remotes.get(memberId);
    if (!r || r.url !== m.cluster) {
      r = { url: m.cluster, chunks: new RemoteChunkReplica(memberId, m.cluster, rpc, m.name), meta: new RemoteMetaReplica(memberId, m.cluster, rpc, m.name) };
      this.#remotes.set(memberId, r);
    }
    return r;
  }
}
