import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Member, MemberState } from '../cluster/types.ts';
import { rankAll, replicasFor } from '../cluster/placement.ts';
import { chunkTask, membersToAsk, type LocalChunk } from './chunks.ts';
import { effectiveReplicas, ReferenceIndex } from './refs.ts';
import { bucketRepairs } from './worker.ts';
import { collectable } from './tombstones.ts';

const member = (i: number, state: MemberState = 'active'): Member => ({
  id: `id-${i}`,
  name: `node-${i}`,
  roles: ['node'],
  api: '',
  cluster: '',
  zone: '',
  weight: 1,
  state,
  capacityBytes: 1e12,
  usedBytes: 0,
  lastHeartbeat: 0,
});
const chunk = (id: string, r = 2): LocalChunk => ({ id, size: 100, r, refs: 1, buckets: ['b'] });

test('the first live holder in rank order acts; the others only ask', () => {
  const members = [1, 2, 3, 4, 5].map((i) => member(i));
  const c = chunk('c1');
  const ranked = rankAll('c1', members).map((m) => m.id);
  // Holders: ranks 2 and 4 (0-based 1 and 3); desired are ranks 0 and 1.
  const [r0, r1, , r3] = ranked;
  const front = chunkTask(r1!, c, new Set([r3!]), members);
  assert.ok(front.acts, 'nobody ahead holds it: act');
  assert.equal(front.copyTo, [r0]);
  const back = chunkTask(r3!, c, new Set([r1!]), members);
  assert.not.ok(back.acts, 'a live holder ranked ahead acts instead');
  assert.not.ok(back.dropLocal, 'desired holder r0 has not confirmed yet');
  // Asked: desired holders and live members ranked ahead, never itself.
  const ask = membersToAsk(r3!, c, members);
  assert.ok(ask.includes(r0!) && ask.includes(r1!) && !ask.includes(r3!));
});

test('a surplus copy is dropped only when a full set of R desired holders confirmed', () => {
  const members = [1, 2, 3, 4].map((i) => member(i));
  const desired = replicasFor('c2', members, 2).map((m) => m.id);
  const extra = members.map((m) => m.id).find((id) => !desired.includes(id))!;
  assert.ok(chunkTask(extra, chunk('c2'), new Set(desired), members).dropLocal);
  assert.not.ok(chunkTask(extra, chunk('c2'), new Set([desired[0]!]), members).dropLocal);
  // Too few active members for R: the extra copy is kept even though every desired one has it.
  const few = [member(1), member(2, 'draining')];
  assert.not.ok(chunkTask('id-2', chunk('c2'), new Set(['id-1']), few).dropLocal);
  assert.not.ok(chunkTask('id-2', chunk('c2'), new Set(['id-1']), few).fullyPlaced);
});

test('a down holder ahead does not stop this one from acting', () => {
  const members = [1, 2, 3].map((i) => member(i));
  const ranked = rankAll('c3', members).map((m) => m.id);
  members.find((m) => m.id === ranked[0])!.state = 'down';
  const t = chunkTask(ranked[1]!, chunk('c3'), new Set([ranked[0]!]), members);
  assert.ok(t.acts);
  assert.equal(t.copyTo, [ranked[2]]);
  assert.ok(t.plan.underReplicated);
});

test('reference index: live versions and upload parts count, tombstones and inline bodies do not', () => {
  const ix = new ReferenceIndex();
  const base = { bucket: 'b', versionId: 'v', timestamp: 1, writer: 'w', size: 1, etag: '', userMeta: {} };
  ix.addVersion({ ...base, key: 'a', deleted: false, chunks: [{ id: 'x', size: 5 }], replicas: 2 });
  ix.addVersion({ ...base, key: 'b', deleted: false, chunks: [{ id: 'x', size: 5 }], replicas: 3, pin: ['n1'] });
  ix.addVersion({ ...base, key: 'c', deleted: true, chunks: [{ id: 'y', size: 5 }], replicas: 2 });
  ix.addVersion({ ...base, key: 'd', deleted: false, chunks: [], inline: 'aGk=', replicas: 2 });
  ix.addUpload({ bucket: 'b', key: 'm', uploadId: 'u', initiated: '', userMeta: {}, replicas: 2, owner: '' }, [
    { number: 1, etag: '', size: 5, chunks: [{ id: 'z', size: 5 }], lastModified: '', timestamp: 1 },
  ]);
  assert.equal(ix.get('x'), { size: 5, r: 3, pin: ['n1'], refs: 2, buckets: ['b'] });
  assert.is(ix.get('y'), undefined);
  assert.is(ix.get('z')?.r, 2);
  assert.is(ix.chunks.size, 2);
});

test("effective R: the bucket's current R, up and down, or more when the write asked for more; old versions keep theirs as a floor", () => {
  // Written since the raise is recorded apart: the bucket's R moves every such version, both ways.
  assert.is(effectiveReplicas({ replicas: 2, requestedReplicas: 0 }, 3), 3);
  assert.is(effectiveReplicas({ replicas: 3, requestedReplicas: 0 }, 2), 2, 'written at 3 when the bucket was at 3: follows it down');
  assert.is(effectiveReplicas({ replicas: 4, requestedReplicas: 4 }, 2), 4, 'x-cairn-replicas: 4 is kept');
  assert.is(effectiveReplicas({ replicas: 4, requestedReplicas: 4 }, 5), 5);
  // Written before: header or bucket cannot be told apart, so never lowered below what it was written with.
  assert.is(effectiveReplicas({ replicas: 2 }, 3), 3);
  assert.is(effectiveReplicas({ replicas: 3 }, 2), 3);
  const ix = new ReferenceIndex();
  const base = { bucket: 'b', versionId: 'v', timestamp: 1, writer: 'w', size: 1, etag: '', userMeta: {}, deleted: false };
  ix.addVersion({ ...base, key: 'a', chunks: [{ id: 'x', size: 5 }], replicas: 3, requestedReplicas: 0 }, { name: 'b', replicas: 2 });
  ix.addVersion({ ...base, key: 'a', chunks: [{ id: 'x', size: 5 }], replicas: 2, requestedReplicas: 0 }, { name: 'other', replicas: 2 });
  assert.equal(ix.get('x'), { size: 5, r: 2, refs: 2, buckets: ['b', 'other'], pin: undefined });
});

test('per-bucket repair counts: under where this member acts, surplus where it holds what placement wants elsewhere, partitions too', () => {
  const members = [1, 2, 3].map((i) => member(i));
  const self = 'id-1';
  const task = (id: string, r: number, holders: string[], buckets: string[]) =>
    chunkTask(self, { id, size: 1, r, refs: 1, buckets }, new Set(holders), members);
  const ids = Array.from({ length: 40 }, (_, i) => `c${i}`);
  // R raised to 3 everywhere: every chunk held here and on one other member lacks its third copy.
  const raised = ids.map((id) =>
    task(
      id,
      3,
      [
        members.find(
          (m) =>
            m.id !== self &&
            !rankAll(id, members)
              .slice(0, 1)
              .some((x) => x.id === m.id),
        )!.id,
      ],
      ['photos'],
    ),
  );
  const counts = bucketRepairs(raised, new Map([['photos', 3]]), { pending: new Set(['photos']), surplus: new Set() }, self);
  const acting = raised.filter((t) => t.acts).length;
  assert.equal(counts.get('photos'), { r: 3, under: acting + 1, surplus: 0 }, 'the partition that is not confirmed counts too');
  // R lowered to 1: copies here that placement does not want are surplus.
  const lowered = ids.map((id) =>
    task(
      id,
      1,
      members.map((m) => m.id).filter((m) => m !== self),
      ['photos', 'shared'],
    ),
  );
  const low = bucketRepairs(
    lowered,
    new Map([
      ['photos', 1],
      ['shared', 1],
    ]),
    { pending: new Set(), surplus: new Set(['photos']) },
    self,
  );
  const unwanted = lowered.filter((t) => !t.plan.desired.includes(self)).length;
  assert.ok(unwanted > 0 && unwanted < 40);
  assert.equal(low.get('photos'), { r: 1, under: 0, surplus: unwanted + 1 });
  assert.equal(low.get('shared'), { r: 1, under: 0, surplus: unwanted }, 'a shared chunk counts for each bucket');
});

test('a tombstone is collectable only when no member holds an older live version or a newer one', () => {
  const v = (ts: number, deleted: boolean) => ({
    bucket: 'b',
    key: 'k',
    versionId: `v${ts}`,
    timestamp: ts,
    writer: 'w',
    deleted,
    size: 0,
    etag: '',
    userMeta: {},
    chunks: [],
    replicas: 2,
  });
  const t = v(10, true);
  assert.ok(collectable(t, [t, undefined, v(5, true)]));
  assert.not.ok(collectable(t, [t, v(5, false)]), 'an older live version would come back');
  assert.not.ok(collectable(t, [t, v(20, true)]), "a newer version exists: not this tombstone's turn");
});

test.run();
