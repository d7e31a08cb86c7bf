// The upload queue against a fake API and transport: small files go as one PUT, big ones in parts
// that are completed in order; pause keeps finished parts and resume sends only the rest; cancel
// aborts the multipart upload; a 5xx part is retried; a 4xx fails the file with S3's reason, and
// the retry of a vanished upload starts it again; progress adds up; requests stay bounded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { UploadPlan } from '../../../node-runtime/src/console/api.ts';
import { TransferError, type Blobish, type Transport, type UploadApi } from './transport.ts';
import { Uploader } from './uploader.ts';

const MiB = 1024 * 1024;

class FakeBlob implements Blobish {
  readonly size: number;
  readonly type: string;
  readonly start: number;
  constructor(size: number, type = 'application/octet-stream', start = 0) {
    this.size = size;
    this.type = type;
    this.start = start;
  }
  slice(start: number, end: number): FakeBlob {
    return new FakeBlob(end - start, '', this.start + start);
  }
}

interface Put {
  url: string;
  body: FakeBlob;
  progress(n: number): void;
  resolve(etag?: string): void;
  reject(e: Error): void;
  signal: AbortSignal;
}

function fakes(partSize = 8 * MiB) {
  const puts: Put[] = [];
  const log: string[] = [];
  let inFlight = 0,
    maxInFlight = 0;
  const api: UploadApi = {
    async start(_b, key, size): Promise<UploadPlan> {
      log.push(`start ${key}`);
      return size <= 16 * MiB
        ? { kind: 'single', url: `/s3/${key}` }
        : { kind: 'multipart', uploadId: `u-${key}`, partSize, partCount: Math.ceil(size / partSize) };
    },
    async partUrls(_b, key, _u, ns) {
      log.push(`urls ${key} ${ns.join(',')}`);
      return ns.map((n) => `/s3/${key}?partNumber=${n}`);
    },
    async complete(_b, key, _u, parts) {
      log.push(`complete ${key} ${parts.map((p) => `${p.partNumber}:${p.etag}`).join(',')}`);
    },
    async abort(_b, key) {
      log.push(`abort ${key}`);
    },
  };
  const transport: Transport = {
    put(url, body, _type, onProgress, signal) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise((resolve, reject) => {
        const done = () => {
          inFlight--;
          puts.splice(puts.indexOf(p), 1);
        };
        const p: Put = {
          url,
          body: body as FakeBlob,
          signal,
          progress: onProgress,
          resolve: (etag = `e${(body as FakeBlob).start}`) => {
            done();
            resolve({ etag });
          },
          reject: (e) => {
            done();
            reject(e);
          },
        };
        signal.addEventListener(
          'abort',
          () => {
            if (puts.includes(p)) {
              done();
              reject(new Error('aborted'));
            }
          },
          { once: true },
        );
        puts.push(p);
      });
    },
  };
  return { api, transport, puts, log, maxInFlight: () => maxInFlight };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
async function until(check: () => boolean) {
  for (let i = 0; i < 200 && !check(); i++) await settle();
  assert.ok(check(), 'condition not reached');
}

test('a small file is one PUT; progress shows; done calls back', async () => {
  const f = fakes();
  const done: string[] = [];
  const u = new Uploader(f.api, f.transport, { onFileDone: (i) => done.push(i.key) });
  const [item] = u.add('b', [{ key: 'a.txt', file: new FakeBlob(1000, 'text/plain') }]);
  await until(() => f.puts.length === 1);
  assert.is(f.puts[0].url, '/s3/a.txt');
  f.puts[0].progress(400);
  assert.equal(u.totals(), { files: 1, done: 0, failed: 0, paused: 0, active: 1, size: 1000, loaded: 400 });
  f.puts[0].resolve();
  await until(() => done.length === 1);
  assert.is(u.items()[0].state, 'done');
  assert.is(u.items()[0].loaded, 1000);
  assert.is(item.key, 'a.txt');
});

test('a big file goes in parts, completed in part order with their ETags; requests are bounded', async () => {
  const f = fakes();
  const u = new Uploader(f.api, f.transport, { maxRequests: 2 });
  u.add('b', [{ key: 'big', file: new FakeBlob(40 * MiB) }]);
  await until(() => f.puts.length === 2);
  assert.ok(f.log.includes('urls big 1,2,3,4,5'), f.log.join('\n'));
  // Finish out of order: the completion still lists 1..5.
  for (let i = 0; i < 5; i++) {
    await until(() => f.puts.length > 0);
    f.puts[f.puts.length - 1].resolve();
    await settle();
  }
  await until(() => u.items()[0].state === 'done');
  assert.ok(f.maxInFlight() <= 2);
  const complete = f.log.find((l) => l.startsWith('complete'))!;
  assert.is(complete, `complete big ${[0, 1, 2, 3, 4].map((i) => `${i + 1}:e${i * 8 * MiB}`).join(',')}`);
});

test('pause keeps finished parts; resume sends only the rest; cancel aborts the upload', async () => {
  const f = fakes();
  const u = new Uploader(f.api, f.transport, { maxRequests: 1 });
  const [item] = u.add('b', [{ key: 'big', file: new FakeBlob(24 * MiB) }]);
  await until(() => f.puts.length === 1);
  f.puts[0].resolve(); // part 1 done
  await until(() => f.puts.length === 1 && f.puts[0].url.endsWith('=2'));
  f.puts[0].progress(MiB);
  u.pause(item.id);
  await settle();
  assert.is(f.puts.length, 0, 'the part in flight was aborted');
  assert.is(u.items()[0].state, 'paused');
  assert.is(u.items()[0].loaded, 8 * MiB, 'only the finished part counts');
  u.resume(item.id);
  await until(() => f.puts.length === 1);
  assert.match(f.puts[0].url, /partNumber=2$/);
  u.cancel(item.id);
  await until(() => f.log.includes('abort big'));
  assert.is(u.items()[0].state, 'cancelled');
  assert.is(u.totals().files, 0);
});

test('a 5xx is retried; a 4xx fails the file with the reason; retry after NoSuchUpload starts again', async () => {
  const f = fakes();
  const u = new Uploader(f.api, f.transport, { retryDelayMs: () => 0 });
  const [item] = u.add('b', [{ key: 'a', file: new FakeBlob(10) }]);
  await until(() => f.puts.length === 1);
  f.puts[0].reject(new TransferError(503, 'ServiceUnavailable', 'busy'));
  await until(() => f.puts.length === 1);
  f.puts[0].reject(new TransferError(403, 'QuotaExceeded', "The bucket's quota is used up."));
  await until(() => u.items()[0].state === 'failed');
  assert.is(u.items()[0].error, "The bucket's quota is used up.");

  const [big] = u.add('b', [{ key: 'big', file: new FakeBlob(20 * MiB) }]);
  await until(() => f.puts.length >= 1);
  f.puts[0].reject(new TransferError(404, 'NoSuchUpload', 'gone'));
  await until(() => u.items()[1].state === 'failed');
  for (const p of [...f.puts]) p.reject(new Error('x'));
  await settle();
  const starts = f.log.filter((l) => l === 'start big').length;
  u.resume(big.id);
  await until(() => f.log.filter((l) => l === 'start big').length === starts + 1);
  u.resume(item.id);
  await until(() => f.puts.some((p) => p.url === '/s3/a'));
});

test('only a few files run at once; the rest wait their turn', async () => {
  const f = fakes();
  const u = new Uploader(f.api, f.transport, { maxFiles: 2, maxRequests: 8 });
  u.add(
    'b',
    Array.from({ length: 5 }, (_, i) => ({ key: `f${i}`, file: new FakeBlob(5) })),
  );
  await until(() => f.puts.length === 2);
  await settle();
  assert.is(f.puts.length, 2);
  assert.equal(
    u.items().map((i) => i.state),
    ['uploading', 'uploading', 'queued', 'queued', 'queued'],
  );
  f.puts[0].resolve();
  await until(() => u.items()[2].state === 'uploading');
});

test.run();
