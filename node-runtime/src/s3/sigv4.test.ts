// SigV4 verification against AWS's published examples and against signatures made by the
// SDK's own signer (@smithy/signature-v4), including keys that must not be normalised.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { SignatureV4 } from '@smithy/signature-v4';
import { isS3Error } from '../util/errors.ts';
import { AwsChunkedDecoder } from './chunked.ts';
import { BodyChecksum } from './body-checksum.ts';
import { Sha256 } from '../../test/s3-client.ts';
import { createHash } from 'node:crypto';
import {
  awsUriEncode,
  checkTime,
  chunkStringToSign,
  EMPTY_SHA256,
  sign,
  trailerStringToSign,
  parseAmzDate,
  parseAuthorizationHeader,
  parsePresignedQuery,
  verifySignature,
  type SignableRequest,
} from './sigv4.ts';

const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

const signer = new SignatureV4({
  service: 's3',
  region: 'us-east-1',
  credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
  sha256: Sha256,
  uriEscapePath: false,
  applyChecksum: false,
});

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isS3Error(e)) return e.code;
    throw e;
  }
  return 'no error';
}

const queryPairs = (q: Record<string, string | string[] | null | undefined>): [string, string][] =>
  Object.entries(q).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v ?? ''] as [string, string]]));

const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

test('AWS example: GET object with a Range header', () => {
  const req: SignableRequest = {
    method: 'GET',
    rawPath: '/test.txt',
    query: [],
    headers: { host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': '20130524T000000Z' },
  };
  const claim = parseAuthorizationHeader(
    `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
    '20130524T000000Z',
  );
  verifySignature(req, claim, SECRET, EMPTY_SHA256);
  assert.is(
    code(() => verifySignature(req, claim, 'not-the-secret', EMPTY_SHA256)),
    'SignatureDoesNotMatch',
  );
  assert.is(
    code(() => verifySignature({ ...req, headers: { ...req.headers, range: 'bytes=0-10' } }, claim, SECRET, EMPTY_SHA256)),
    'SignatureDoesNotMatch',
  );
});

test('AWS example: presigned GET', () => {
  const query = queryPairs({
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${AKID}/20130524/us-east-1/s3/aws4_request`,
    'X-Amz-Date': '20130524T000000Z',
    'X-Amz-Expires': '86400',
    'X-Amz-SignedHeaders': 'host',
    'X-Amz-Signature': 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  });
  const req: SignableRequest = { method: 'GET', rawPath: '/test.txt', query, headers: { host: 'examplebucket.s3.amazonaws.com' } };
  const claim = parsePresignedQuery(query);
  verifySignature(req, claim, SECRET, 'UNSIGNED-PAYLOAD');
  const t = parseAmzDate('20130524T000000Z');
  checkTime(claim, t + 86_399_000);
  assert.is(
    code(() => checkTime(claim, t + 86_401_000)),
    'AccessDenied',
  );
  const tampered = { ...req, query: [...query, ['response-content-type', 'text/html'] as [string, string]] };
  assert.is(
    code(() => verifySignature(tampered, claim, SECRET, 'UNSIGNED-PAYLOAD')),
    'SignatureDoesNotMatch',
  );
});

// Keys as the SDK puts them on the wire: each segment encoded, '/' kept, nothing normalised.
const awkwardKeys = ['plain.txt', 'a//b', '../x', '%2e%2e/y', 'ünï cödé/文件 名.txt', "sp ace+plus!'()*&=?#", './.', 'trailing/'];

for (const key of awkwardKeys) {
  test(`SDK header signature verifies for key ${JSON.stringify(key)}`, async () => {
    const path =
      '/bucket/' +
      key
        .split('/')
        .map((s) => awsUriEncode(s))
        .join('/');
    const now = new Date();
    const signed = await signer.sign(
      {
        method: 'PUT',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 9000,
        path,
        query: { 'x-id': 'PutObject', prefix: 'a b/c', empty: '' },
        headers: { host: '127.0.0.1:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-type': 'text/plain', 'x-amz-meta-k': '  v   w ' },
      },
      { signingDate: now },
    );
    const headers = lower(signed.headers as Record<string, string>);
    const req: SignableRequest = { method: 'PUT', rawPath: path, query: queryPairs(signed.query as Record<string, string>), headers };
    const claim = parseAuthorizationHeader(headers.authorization, headers['x-amz-date']);
    assert.is(claim.accessKeyId, AKID);
    verifySignature(req, claim, SECRET, 'UNSIGNED-PAYLOAD');
    checkTime(claim, now.getTime());
    assert.is(
      code(() => checkTime(claim, now.getTime() + 16 * 60_000)),
      'RequestTimeTooSkewed',
    );
    assert.is(
      code(() => verifySignature({ ...req, rawPath: path + 'x' }, claim, SECRET, 'UNSIGNED-PAYLOAD')),
      'SignatureDoesNotMatch',
    );
  });
}

test('SDK presigned URL verifies; tampering and expiry are caught', async () => {
  const now = new Date();
  const path = '/bucket/' + awsUriEncode('dir/ü file', true);
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 9000,
      path,
      query: { 'response-content-type': 'text/plain' },
      // As @aws-sdk/s3-request-presigner does: the header is hoisted into the query.
      headers: { host: '127.0.0.1:9000', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
    },
    { expiresIn: 60, signingDate: now },
  );
  const query = queryPairs(signed.query as Record<string, string>);
  const req: SignableRequest = { method: 'GET', rawPath: path, query, headers: { host: '127.0.0.1:9000' } };
  const claim = parsePresignedQuery(query);
  assert.is(new Map(query).get('X-Amz-Content-Sha256'), 'UNSIGNED-PAYLOAD');
  verifySignature(req, claim, SECRET, 'UNSIGNED-PAYLOAD');
  checkTime(claim, now.getTime() + 59_000);
  assert.is(
    code(() => checkTime(claim, now.getTime() + 61_000)),
    'AccessDenied',
  );
  const tampered = query.map(([k, v]) => [k, k === 'response-content-type' ? 'text/html' : v] as [string, string]);
  assert.is(
    code(() => verifySignature({ ...req, query: tampered }, claim, SECRET, 'UNSIGNED-PAYLOAD')),
    'SignatureDoesNotMatch',
  );
  assert.is(
    code(() => verifySignature({ ...req, method: 'PUT' }, claim, SECRET, 'UNSIGNED-PAYLOAD')),
    'SignatureDoesNotMatch',
  );
  assert.is(
    code(() => parsePresignedQuery(query.filter(([k]) => k !== 'X-Amz-Date'))),
    'AuthorizationQueryParametersError',
  );
});

test('malformed Authorization headers are rejected with a clear code', () => {
  assert.is(
    code(() => parseAuthorizationHeader('AWS AKID:sig', '20130524T000000Z')),
    'InvalidRequest',
  );
  assert.is(
    code(() => parseAuthorizationHeader('AWS4-HMAC-SHA256 Credential=x', '20130524T000000Z')),
    'AuthorizationHeaderMalformed',
  );
  assert.is(
    code(() => parseAuthorizationHeader('AWS4-HMAC-SHA256 Credential=a/b/c/s3/aws4_request, SignedHeaders=host, Signature=00', '20130524T000000Z')),
    'AuthorizationHeaderMalformed',
  );
});

// AWS's signed streaming example: 64 KiB + 1 KiB of 'a' in aws-chunked encoding.
const STREAM_AUTH = `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9`;
const chunkSigs = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
];
function streamingBody(sigs = chunkSigs, sizes = [65536, 1024, 0]): Buffer {
  return Buffer.concat(sizes.flatMap((n, i) => [Buffer.from(`${n.toString(16)};chunk-signature=${sigs[i]}\r\n`), Buffer.alloc(n, 'a'), Buffer.from('\r\n')]));
}

function streamingSetup() {
  const req: SignableRequest = {
    method: 'PUT',
    rawPath: '/examplebucket/chunkObject.txt',
    query: [],
    headers: {
      host: 's3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '66560',
      'content-length': '66824',
    },
  };
  const claim = parseAuthorizationHeader(STREAM_AUTH, '20130524T000000Z');
  const key = verifySignature(req, claim, SECRET, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  return { claim, key };
}

// Feed `body` in uneven pieces (chunk headers split across reads) and collect the output.
async function decode(body: Buffer, decoder: AwsChunkedDecoder): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; ) {
    const n = 1 + ((i * 7919) % 5000);
    pieces.push(body.subarray(i, i + n));
    i += n;
  }
  const out: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    Readable.from(pieces)
      .pipe(decoder)
      .on('data', (d: Buffer) => out.push(d))
      .on('end', resolve)
      .on('error', reject);
  });
  return Buffer.concat(out);
}

async function decodeCode(body: Buffer, decoder: AwsChunkedDecoder): Promise<string> {
  try {
    await decode(body, decoder);
    return 'no error';
  } catch (e) {
    return isS3Error(e) ? e.code : String(e);
  }
}

test('AWS example: signed aws-chunked body decodes and every chunk signature verifies', async () => {
  const { claim, key } = streamingSetup();
  const body = streamingBody();
  assert.is(body.length, 66824);
  const signing = { claim, key, seedSignature: claim.signature };
  const out = await decode(body, new AwsChunkedDecoder({ decodedLength: 66560, signing }));
  assert.ok(out.equals(Buffer.alloc(66560, 'a')));

  const flipped = Buffer.from(body);
  flipped[100] = 'b'.charCodeAt(0);
  assert.is(await decodeCode(flipped, new AwsChunkedDecoder({ decodedLength: 66560, signing })), 'SignatureDoesNotMatch');
  assert.is(await decodeCode(body.subarray(0, 66000), new AwsChunkedDecoder({ decodedLength: 66560, signing })), 'IncompleteBody');
  const badFinal = streamingBody([chunkSigs[0], chunkSigs[1], '0'.repeat(64)]);
  assert.is(await decodeCode(badFinal, new AwsChunkedDecoder({ decodedLength: 66560, signing })), 'SignatureDoesNotMatch');
  assert.is(await decodeCode(body, new AwsChunkedDecoder({ decodedLength: 1000, signing })), 'IncompleteBody');
});

/** The checksum the request announced in x-amz-trailer (payload.ts makes it from the headers). */
const crc32Trailer = () => new BodyChecksum({ algorithm: 'CRC32', source: 'trailer' });

test('signed aws-chunked body with a signed CRC32 trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', async () => {
  // Same chain as the AWS example; the trailer is signed over "name:value\n" chained from the
  // final (empty) chunk's signature.
  const { claim, key } = streamingSetup();
  const data = Buffer.from('trailer body');
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(data) >>> 0);
  const build = (checksum: string, trailerSigOverride?: string) => {
    const s1 = sign(key, chunkStringToSign(claim, claim.signature, createHash('sha256').update(data).digest('hex')));
    const s0 = sign(key, chunkStringToSign(claim, s1, EMPTY_SHA256));
    const trailer = `x-amz-checksum-crc32:${checksum}\n`;
    const ts = trailerSigOverride ?? sign(key, trailerStringToSign(claim, s0, trailer));
    return Buffer.from(
      `${data.length.toString(16)};chunk-signature=${s1}\r\n${data}\r\n0;chunk-signature=${s0}\r\n${trailer.replace('\n', '\r\n')}x-amz-trailer-signature:${ts}\r\n\r\n`,
    );
  };
  const opts = () => ({
    decodedLength: data.length,
    signing: { claim, key, seedSignature: claim.signature },
    trailer: 'x-amz-checksum-crc32',
    checksum: crc32Trailer(),
  });
  assert.ok((await decode(build(sum.toString('base64')), new AwsChunkedDecoder(opts()))).equals(data));
  assert.is(await decodeCode(build(sum.toString('base64'), '1'.repeat(64)), new AwsChunkedDecoder(opts())), 'SignatureDoesNotMatch');
  assert.is(await decodeCode(build('AAAAAA=='), new AwsChunkedDecoder(opts())), 'BadDigest');
});

test('unsigned aws-chunked body with a CRC32 trailer (what the v3 SDK sends for streams)', async () => {
  const data = Buffer.from('hello chunked world, '.repeat(1000));
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(data) >>> 0);
  const body = (checksum: string) =>
    Buffer.concat([
      Buffer.from(`${(10000).toString(16)}\r\n`),
      data.subarray(0, 10000),
      Buffer.from('\r\n'),
      Buffer.from(`${(data.length - 10000).toString(16)}\r\n`),
      data.subarray(10000),
      Buffer.from('\r\n'),
      Buffer.from(`0\r\nx-amz-checksum-crc32:${checksum}\r\n\r\n`),
    ]);
  const out = await decode(
    body(sum.toString('base64')),
    new AwsChunkedDecoder({ decodedLength: data.length, trailer: 'x-amz-checksum-crc32', checksum: crc32Trailer() }),
  );
  assert.ok(out.equals(data));
  assert.is(
    await decodeCode(body('AAAAAA=='), new AwsChunkedDecoder({ decodedLength: data.length, trailer: 'x-amz-checksum-crc32', checksum: crc32Trailer() })),
    'BadDigest',
  );
});

test.run();
