// Flexible checksums across a cluster of real processes (1 root + 3 nodes, a bucket with R=2): a
// checksum is part of the version's metadata, so it is answered the same through every member,
// a multipart upload whose parts went through different members completes with the checksum of
// the whole object, and a checksum survives the loss of a holder of the bucket's metadata.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';
import { replicasFor } from '../cluster/placement.ts';

const secret = randomBytes(12).toString('hex');
const accessKey = 'AKCHECKSUMS',
  secretKey = 'checksums-secret-key';
const env = { CAIRN_FAILURE_TIMEOUT_MS: '3000', CAIRN_HEARTBEAT_MS: '250', CAIRN_LOG_LEVEL: 'warn' };
const common = { secret, accessKey, secretKey, env };
const B = 'sums-cluster';
const MiB = 1024 * 1024;

let root: CairnProcess;
let nodes: CairnProcess[] = [];
const clients = new Map<CairnProcess, S3Client>();
const admin = () => createAdminClient({ url: root.cluster, secret });
const members = () => [root, ...nodes];

function s3(p: CairnProcess): S3Client {
  let c = clients.get(p);
  if (!c) {
    c = new S3Client({
      endpoint: p.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    });
    clients.set(p, c);
  }
  return c;
}

const crc32b64 = (b: Buffer) => {
  const o = Buffer.alloc(4);
  o.writeUInt32BE(crc32(b));
  return o.toString('base64');
};

/** GET through `p` with checksum mode: the body (which the SDK checks against the checksum) and the checksum. */
async function readThrough(p: CairnProcess, key: string) {
  const got = await s3(p).send(new GetObjectCommand({ Bucket: B, Key: key, ChecksumMode: 'ENABLED' }));
  return { body: Buffer.from(await got.Body!.transformToByteArray()), crc32: got.ChecksumCRC32, sha256: got.ChecksumSHA256, type: got.ChecksumType };
}

test.before(async () => {
  root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
  nodes = await Promise.all([0, 1, 2].map((i) => startCairnProcess({ ...common, roles: ['node'], name: `nodes-${i}`, roots: [root.cluster] })));
  await waitFor(async () => (await admin().status()).counts.active === 4, { timeoutMs: 10_000, what: 'all members active' });
  await admin().putBucket({ name: B, replicas: 2 });
});

test.after(async () => {
  for (const c of clients.values()) c.destroy();
  await Promise.all(members().map((p) => p.cleanup().catch(() => {})));
});

test("a PUT's checksum and a multipart upload's (parts through different members) read back through every member, also with a metadata holder down", async () => {
  const body = randomBytes(300_000);
  const put = await s3(nodes[0]).send(new PutObjectCommand({ Bucket: B, Key: 'plain', Body: body, ChecksumAlgorithm: 'SHA256' }));

  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(777)];
  const { UploadId } = await s3(nodes[1]).send(
    new CreateMultipartUploadCommand({ Bucket: B, Key: 'multi', ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' }),
  );
  const done = [];
  for (const [i, data] of parts.entries()) {
    const up = await s3(members()[i % 4]).send(
      new UploadPartCommand({ Bucket: B, Key: 'multi', UploadId, PartNumber: i + 1, Body: data, ChecksumAlgorithm: 'CRC32' }),
    );
    done.push({ PartNumber: i + 1, ETag: up.ETag, ChecksumCRC32: up.ChecksumCRC32 });
  }
  const whole = Buffer.concat(parts);
  const completed = await s3(nodes[2]).send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'multi', UploadId, MultipartUpload: { Parts: done } }));
  assert.is(completed.ChecksumCRC32, crc32b64(whole));

  const check = async (through: CairnProcess[]) => {
    for (const p of through) {
      const a = await readThrough(p, 'plain');
      assert.ok(a.body.equals(body), p.name);
      assert.equal([a.sha256, a.type], [put.ChecksumSHA256, 'FULL_OBJECT'], p.name);
      const m = await readThrough(p, 'multi');
      assert.ok(m.body.equals(whole), p.name);
      assert.equal([m.crc32, m.type], [crc32b64(whole), 'FULL_OBJECT'], p.name);
    }
  };
  await check(members());

  // The checksum lives in the version's metadata: with one of its two holders gone it is still answered.
  const st = await admin().status();
  const holder = replicasFor(
    `bucket:${B}`,
    st.members.map((m) => ({ ...m, lastHeartbeat: 0 })),
    2,
  )
    .map((m) => m.name)
    .find((n) => n !== root.name)!;
  const victim = nodes.find((n) => n.name === holder)!;
  await victim.kill('SIGKILL');
  try {
    await check(members().filter((p) => p !== victim));
  } finally {
    await victim.restart();
  }
});

test.run();
