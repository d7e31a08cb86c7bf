// Versions and conditional writes in a real cluster (1 root + 3 nodes on loopback, AWS SDK v3 clients,
// a bucket with R=3): versions written through different coordinators list and read the same through
// every member; two coordinators racing a conditional write of one key — exactly one wins, and the
// loser leaves no version behind; a lifecycle rule expires every object exactly once, cluster-wide;
// every version survives the loss of a node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  PutBucketLifecycleConfigurationCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';

const secret = randomBytes(12).toString('hex');
const accessKey = 'AKVERSIONS',
  secretKey = 'versions-secret-key';
// A lifecycle "day" of one second, passes every 300 ms (the lifecycle test's bucket only).
const common = {
  secret,
  accessKey,
  secretKey,
  env: { CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'error', CAIRN_LIFECYCLE_DAY_MS: '1000', CAIRN_LIFECYCLE_INTERVAL_MS: '300' },
};
const B = 'vcluster';
const ROUNDS = 20;

const procs: CairnProcess[] = [];
let root: CairnProcess;
let nodes: CairnProcess[];
const clients = new Map<CairnProcess, S3Client>();
const admin = () => createAdminClient({ url: root.cluster, secret });
const via = (p: CairnProcess) => clients.get(p)!;

function client(p: CairnProcess): S3Client {
  return new S3Client({
    endpoint: p.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
  });
}

/** 'ok' with the version id, or the S3 error code. */
async function outcome(p: Promise<{ VersionId?: string }>): Promise<string> {
  try {
    return `ok ${(await p).VersionId}`;
  } catch (e) {
    if (e instanceof S3ServiceException) return e.name;
    throw e;
  }
}

async function versionIds(p: CairnProcess, key: string): Promise<string[]> {
  const r = await via(p).send(new ListObjectVersionsCommand({ Bucket: B, Prefix: key }));
  return [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])].filter((v) => v.Key === key).map((v) => v.VersionId!);
}

const read = async (p: CairnProcess, key: string, versionId?: string) =>
  (await via(p).send(new GetObjectCommand({ Bucket: B, Key: key, VersionId: versionId }))).Body!.transformToString();

test.before(async () => {
  root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
  procs.push(root);
  nodes = await Promise.all([0, 1, 2].map((i) => startCairnProcess({ ...common, roles: ['node'], name: `nodes-${i}`, roots: [root.cluster] })));
  procs.push(...nodes);
  for (const p of procs) clients.set(p, client(p));
  await waitFor(async () => (await admin().status()).counts.active === 4, { timeoutMs: 20_000, what: 'all members active' });
  await via(nodes[0]!).send(new CreateBucketCommand({ Bucket: B }));
  await admin().putBucket({ name: B, replicas: 3 });
  await via(nodes[0]!).send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
  // Bucket settings travel through the registry: every coordinator must see versioning on first.
  await waitFor(
    async () => {
      const seen = await Promise.all(
        procs.map((p) =>
          via(p)
            .send(new GetBucketVersioningCommand({ Bucket: B }))
            .then((r) => r.Status),
        ),
      );
      return seen.every((s) => s === 'Enabled');
    },
    { timeoutMs: 15_000, what: 'versioning Enabled on every member' },
  );
});

test.after(async () => {
  for (const c of clients.values()) c.destroy();
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
});

test('versions written through different coordinators: the same ids, order and bodies through every member', async () => {
  const written: string[] = [];
  for (let i = 0; i < 6; i++) {
    const p = nodes[i % nodes.length]!;
    written.push((await via(p).send(new PutObjectCommand({ Bucket: B, Key: 'shared', Body: `body-${i}` }))).VersionId!);
  }
  const marker = (await via(nodes[1]!).send(new DeleteObjectCommand({ Bucket: B, Key: 'shared' }))).VersionId!;
  const want = [marker, ...written.slice().reverse()];
  for (const p of procs) {
    // Newest first; listing merges the marker into place only in the test (the SDK splits them).
    const r = await via(p).send(new ListObjectVersionsCommand({ Bucket: B, Prefix: 'shared' }));
    assert.equal(
      r.Versions!.map((v) => v.VersionId),
      written.slice().reverse(),
      `versions via ${p.name}`,
    );
    assert.equal(
      r.DeleteMarkers!.map((m) => [m.VersionId, m.IsLatest]),
      [[marker, true]],
      `marker via ${p.name}`,
    );
    for (let i = 0; i < written.length; i++) assert.is(await read(p, 'shared', written[i]), `body-${i}`);
  }
  assert.is(new Set(want).size, want.length);
});

test(`two coordinators racing If-None-Match: * on a new key, ${ROUNDS} times: exactly one wins, the loser writes nothing`, async () => {
  const [a, b] = [nodes[0]!, nodes[2]!];
  let conflicts = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const key = `race-${round}`;
    const results = await Promise.all(
      [a, b].map((p) => outcome(via(p).send(new PutObjectCommand({ Bucket: B, Key: key, Body: `from-${p.name}`, IfNoneMatch: '*' })))),
    );
    const winners = results.filter((r) => r.startsWith('ok'));
    assert.is(winners.length, 1, `round ${round}: ${results.join(', ')}`);
    const loser = results.find((r) => !r.startsWith('ok'))!;
    assert.ok(loser === 'PreconditionFailed' || loser === 'ConditionalRequestConflict', `round ${round}: loser answered ${loser}`);
    if (loser === 'ConditionalRequestConflict') conflicts++;
    // The one version there is the winner's, through either coordinator.
    const winnerId = winners[0]!.slice(3);
    for (const p of [a, b]) assert.equal(await versionIds(p, key), [winnerId]);
    assert.is(await read(b, key), `from-${[a, b][results.indexOf(winners[0]!)]!.name}`);
  }
  console.log(`If-None-Match race: ${ROUNDS} rounds, one winner each; ${conflicts} losers answered 409 ConditionalRequestConflict, the rest 412`);
});

test('two coordinators racing If-Match on the same current ETag: exactly one replaces it', async () => {
  const [a, b] = [nodes[1]!, nodes[2]!];
  for (let round = 0; round < 10; round++) {
    const key = `match-${round}`;
    const etag = (await via(a).send(new PutObjectCommand({ Bucket: B, Key: key, Body: 'base' }))).ETag!;
    const results = await Promise.all(
      [a, b].map((p, i) => outcome(via(p).send(new PutObjectCommand({ Bucket: B, Key: key, Body: `next-${i}`, IfMatch: etag })))),
    );
    assert.is(results.filter((r) => r.startsWith('ok')).length, 1, `round ${round}: ${results.join(', ')}`);
    assert.is((await versionIds(a, key)).length, 2);
  }
});

/** The sum of a metric's samples (whose labels include `labels`) on one member. */
async function metric(p: CairnProcess, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${p.cluster}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\d+)`, 'gm'))) if ((m[1] ?? '').includes(labels)) sum += Number(m[2]);
  return sum;
}

test('a lifecycle rule expires 30 objects written through three coordinators: each exactly once, by one member', async () => {
  const LC = 'lc-cluster';
  const s3 = via(nodes[0]!);
  await s3.send(new CreateBucketCommand({ Bucket: LC }));
  await admin().putBucket({ name: LC, replicas: 3 });
  await s3.send(new PutBucketVersioningCommand({ Bucket: LC, VersioningConfiguration: { Status: 'Enabled' } }));
  await waitFor(
    async () =>
      (
        await Promise.all(
          nodes.map((p) =>
            via(p)
              .send(new GetBucketVersioningCommand({ Bucket: LC }))
              .then((r) => r.Status),
          ),
        )
      ).every((st) => st === 'Enabled'),
    { timeoutMs: 15_000, what: 'versioning Enabled on every node' },
  );
  for (let i = 0; i < 30; i++) await via(nodes[i % 3]!).send(new PutObjectCommand({ Bucket: LC, Key: `exp/${i}`, Body: `o${i}` }));
  await s3.send(new PutObjectCommand({ Bucket: LC, Key: 'keep', Body: 'k' }));
  const done = () => Promise.all(procs.map((p) => metric(p, 'cairn_lifecycle_actions_total', 'action="expire-current",result="done"')));
  const before = await done();
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: LC,
      LifecycleConfiguration: { Rules: [{ ID: 'exp', Status: 'Enabled', Filter: { Prefix: 'exp/' }, Expiration: { Days: 1 } }] },
    }),
  );
  const live = async () => ((await via(nodes[1]!).send(new ListObjectsV2Command({ Bucket: LC }))).Contents ?? []).map((o) => o.Key);
  await waitFor(async () => (await live()).length === 1, { timeoutMs: 30_000, intervalMs: 250, what: 'the 30 objects expired' });
  assert.equal(await live(), ['keep']);
  // Two more passes of the runner change nothing: one delete marker per key, 30 actions in all, on one member.
  const passes = () => Promise.all(procs.map((p) => metric(p, 'cairn_lifecycle_passes_total')));
  const p0 = (await passes()).reduce((a, b) => a + b, 0);
  await waitFor(async () => (await passes()).reduce((a, b) => a + b, 0) >= p0 + 2, { timeoutMs: 10_000, what: 'two more lifecycle passes' });
  const after = await done();
  const delta = after.map((n, i) => n - before[i]!);
  assert.is(
    delta.reduce((a, b) => a + b, 0),
    30,
    `expire-current actions per member: ${delta.join(', ')}`,
  );
  assert.is(delta.filter((n) => n > 0).length, 1, `runs on one member: ${delta.join(', ')}`);
  const listed = await via(nodes[2]!).send(new ListObjectVersionsCommand({ Bucket: LC, Prefix: 'exp/' }));
  assert.is(listed.DeleteMarkers?.length, 30);
  assert.is(new Set(listed.DeleteMarkers!.map((m) => m.Key)).size, 30);
  assert.is(listed.Versions?.length, 30);
});

test('a versioned bucket loses a node: every version still lists and reads through the others', async () => {
  const victim = nodes[2]!;
  const before = await versionIds(nodes[0]!, 'shared');
  await victim.kill('SIGKILL');
  await waitFor(async () => (await admin().status()).members.find((m) => m.name === victim.name)?.state === 'down', {
    timeoutMs: 20_000,
    what: `${victim.name} down`,
  });
  for (const p of [root, nodes[0]!, nodes[1]!]) {
    assert.equal(await versionIds(p, 'shared'), before, `versions via ${p.name}`);
    const listed = await via(p).send(new ListObjectVersionsCommand({ Bucket: B, Prefix: 'shared' }));
    for (const v of listed.Versions!) assert.match(await read(p, 'shared', v.VersionId), /^body-\d$/);
  }
  // And versions are still written: a new one lists everywhere that is up.
  const more = (await via(nodes[0]!).send(new PutObjectCommand({ Bucket: B, Key: 'shared', Body: 'after-loss' }))).VersionId!;
  assert.equal(await versionIds(nodes[1]!, 'shared'), [more, ...before]);
});

test.run();
