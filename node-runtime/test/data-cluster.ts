// Test support for the data path: an in-process cluster of N members, each with its own real chunk
// and metadata stores in a temp dir, behind one ClusterView and one replica directory. Members can be taken "down" (their
// replicas reject every call) to exercise quorum and failover without a network.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BucketSettings, ClusterSettings, ClusterView, Member } from '../src/cluster/types.ts';
import { defaultSettings } from '../src/cluster/types.ts';
import type { ChunkReplica, DataPlane, MetaReplica, ReplicaDirectory } from '../src/data/replicas.ts';
import { LocalChunkReplica, LocalMetaReplica } from '../src/data/local-replica.ts';
import { ChunkStore } from '../src/chunks/store.ts';
import { MetaStore } from '../src/meta/store.ts';
import { BufferMemory } from '../src/chunks/memory.ts';

export interface TestCluster {
  view: ClusterView;
  replicas: ReplicaDirectory;
  /** The view, the replicas and a buffer memory of the default size, as the coordinators take them. */
  plane: DataPlane;
  dir: string;
  stores: { chunks: ChunkStore; meta: MetaStore }[];
  down: Set<string>;
  close(): Promise<void>;
}

function unavailable<T extends object>(target: T, id: string, down: Set<string>): T {
  return new Proxy(target, {
    get(t, prop, recv) {
      const v = Reflect.get(t, prop, recv);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => (down.has(id) ? Promise.reject(new Error(`member ${id} is down`)) : v.apply(t, args));
    },
  });
}

export async function testCluster(n: number, settings: Partial<ClusterSettings> = {}): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-data-'));
  const down = new Set<string>();
  const members: Member[] = [];
  const stores: TestCluster['stores'] = [];
  const chunkReplicas = new Map<string, ChunkReplica>();
  const metaReplicas = new Map<string, MetaReplica>();
  for (let i = 0; i < n; i++) {
    const id = `m${i}`;
    const d = join(dir, id);
    const chunks = await ChunkStore.open(d);
    const meta = MetaStore.open(d);
    stores.push({ chunks, meta });
    members.push({
      id,
      name: `node-${i}`,
      roles: ['node'],
      api: '',
      cluster: '',
      zone: '',
      weight: 1,
      state: 'active',
      capacityBytes: 1e12,
      usedBytes: 0,
      lastHeartbeat: Date.now(),
    });
    chunkReplicas.set(id, unavailable(new LocalChunkReplica(id, chunks), id, down));
    metaReplicas.set(id, unavailable(new LocalMetaReplica(id, meta), id, down));
  }
  const buckets = new Map<string, BucketSettings>();
  const s = { ...defaultSettings, ...settings };
  const view: ClusterView = {
    selfId: 'm0',
    settings: () => s,
    members: () => members,
    member: (id) => members.find((m) => m.id === id),
    bucket: (name) => buckets.get(name),
    buckets: () => [...buckets.values()],
    putBucket: async (b) => {
      buckets.set(b.name, b);
    },
    removeBucket: async (name) => {
      buckets.delete(name);
    },
    onChange: () => () => {},
  };
  const replicas: ReplicaDirectory = { chunks: (id) => chunkReplicas.get(id)!, meta: (id) => metaReplicas.get(id)! };
  return {
    view,
    replicas,
    plane: { view, replicas, memory: new BufferMemory(48 * 1024 * 1024) },
    dir,
    stores,
    down,
    async close() {
      for (const st of stores) await st.meta.close();
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}
