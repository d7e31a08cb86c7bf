import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeKey, encodeKey, eventMessage, eventRecord, sequencer, type Mutation } from './record.ts';
import { compareVersions } from '../meta/lww.ts';

const put: Mutation = {
  eventName: 's3:ObjectCreated:Put',
  bucket: 'photos',
  key: 'holiday 2024/beach+sun (1).jpg',
  time: Date.parse('2026-03-04T05:06:07.089Z'),
  stamp: { timestamp: 1772600767089.123, writer: 'node-1' },
  size: 1234,
  eTag: '"d41d8cd98f00b204e9800998ecf8427e"',
  versionId: 'v1',
  region: 'us-east-1',
  principalId: 'AKIA1',
  bucketOwner: 'owner-1',
  sourceIp: '10.0.0.7',
  requestId: 'req-1',
  node: 'node-1',
};

test('a record has the shape AWS sends', () => {
  const r = eventRecord(put);
  assert.is(r.eventVersion, '2.1');
  assert.is(r.eventSource, 'aws:s3');
  assert.is(r.awsRegion, 'us-east-1');
  assert.is(r.eventTime, '2026-03-04T05:06:07.089Z');
  assert.is(r.eventName, 's3:ObjectCreated:Put');
  assert.equal(r.userIdentity, { principalId: 'AKIA1' });
  assert.equal(r.requestParameters, { sourceIPAddress: '10.0.0.7' });
  assert.equal(r.responseElements, { 'x-amz-request-id': 'req-1', 'x-amz-id-2': 'node-1' });
  assert.equal(r.s3.bucket, { name: 'photos', ownerIdentity: { principalId: 'owner-1' }, arn: 'arn:aws:s3:::photos' });
  assert.equal(r.s3.object, {
    key: 'holiday+2024/beach%2Bsun+%281%29.jpg',
    size: 1234,
    eTag: 'd41d8cd98f00b204e9800998ecf8427e',
    versionId: 'v1',
    sequencer: sequencer(put.stamp),
  });
  assert.is(r.s3.configurationId, undefined);
  assert.equal(JSON.parse(JSON.stringify(r)), r, 'plain JSON');
});

test('a delete has no size or eTag; lifecycle events are version 2.3', () => {
  const del = eventRecord({ ...put, eventName: 's3:ObjectRemoved:DeleteMarkerCreated', versionId: undefined });
  assert.equal(Object.keys(del.s3.object).sort(), ['key', 'sequencer']);
  assert.is(eventRecord({ ...put, eventName: 's3:LifecycleExpiration:Delete' }).eventVersion, '2.3');
});

test('keys are form-URL-encoded with / kept, and decode back', () => {
  const cases: [string, string][] = [
    ['a b', 'a+b'],
    ['a+b', 'a%2Bb'],
    ['dir/sub/file.txt', 'dir/sub/file.txt'],
    ['x*y_z-1.2', 'x*y_z-1.2'],
    ["it's(1)!~", 'it%27s%281%29%21%7E'],
    ['é€', '%C3%A9%E2%82%AC'],
    ['100%', '100%25'],
    ['a&b=c?d#e', 'a%26b%3Dc%3Fd%23e'],
  ];
  for (const [key, encoded] of cases) {
    assert.is(encodeKey(key), encoded, key);
    assert.is(decodeKey(encoded), key, encoded);
  }
});

test('sequencers of one key sort as last-writer-wins orders the versions', () => {
  // Timestamps as a coordinator issues them (data/objects.ts: strictly increasing by at least 1 µs).
  let ts = 1772600767089.999;
  const stamps: { timestamp: number; writer: string; versionId: string }[] = [];
  for (let i = 0; i < 2000; i++) {
    ts += 0.001;
    stamps.push({ timestamp: ts, writer: i % 3 === 0 ? 'node-2' : 'node-10', versionId: String(i) });
  }
  // Same timestamp, different writers: the writer decides, as in compareVersions.
  stamps.push(
    { timestamp: ts, writer: 'node-9', versionId: 'x' },
    { timestamp: ts, writer: 'node-90', versionId: 'y' },
    { timestamp: 2e12, writer: 'a', versionId: 'z' },
  );
  const shuffled = [...stamps].sort(() => Math.random() - 0.5);
  const byLww = [...shuffled].sort(compareVersions).map((s) => s.versionId);
  const bySequencer = [...shuffled].sort((a, b) => (sequencer(a) < sequencer(b) ? -1 : sequencer(a) > sequencer(b) ? 1 : 0)).map((s) => s.versionId);
  assert.equal(bySequencer, byLww);
  assert.match(sequencer({ timestamp: 1, writer: 'n' }), /^[0-9A-F]+$/);
  assert.throws(() => sequencer({ timestamp: 0, writer: 'n' }));
});

test("a target message carries the route's configuration id and the raw bucket/key", () => {
  const r = eventRecord(put);
  const m = eventMessage(r, 'cfg-1');
  assert.is(m.EventName, 's3:ObjectCreated:Put');
  assert.is(m.Key, 'photos/holiday 2024/beach+sun (1).jpg');
  assert.is(m.Records[0].s3.configurationId, 'cfg-1');
  assert.is(r.s3.configurationId, undefined, 'the stored record is not changed');
  assert.not.ok('configurationId' in eventMessage(r).Records[0].s3);
});

test.run();
