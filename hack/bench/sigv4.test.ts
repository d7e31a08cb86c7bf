// The bench's SigV4 signer (built on the runtime's, node-runtime/src/s3/sigv4.ts) must produce
// byte-for-byte the Authorization header of the AWS SDK's own signer (@smithy/signature-v4), or
// every S3 target would answer SignatureDoesNotMatch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { SigV4Signer, canonicalQuery, uriEncode } from './sigv4.ts';

// The SDK's hash interface, backed by node:crypto.
class NodeSha256 {
  #h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key =
      secret === undefined || typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
          : Buffer.from(secret);
    this.#h = key ? createHmac('sha256', key) : createHash('sha256');
  }
  update(data: Uint8Array): void {
    this.#h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#h.digest());
  }
  reset(): void {
    /* not used by the signer */
  }
}

const creds = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const when = new Date('2026-11-21T23:45:06.789Z');

async function sdkAuthorization(method: string, host: string, path: string, query: Record<string, string>, headers: Record<string, string>): Promise<string> {
  const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: creds, sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
  const [hostname, port] = host.split(':');
  const signed = await signer.sign(
    {
      method,
      protocol: 'http:',
      hostname: hostname!,
      port: port ? Number(port) : undefined,
      path: uriEncode(path, true),
      query,
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers },
    },
    { signingDate: when },
  );
  return signed.headers['authorization']!;
}

const ours = new SigV4Signer({ accessKey: creds.accessKeyId, secretKey: creds.secretAccessKey, region: 'us-east-1' });

test('PUT with a body header matches the AWS SDK signer', async () => {
  const headers = { 'content-length': '4096' };
  const mine = ours.sign({ method: 'PUT', host: '127.0.0.1:9000', path: '/bench/small/000001', headers }, when);
  assert.is(mine.headers['authorization'], await sdkAuthorization('PUT', '127.0.0.1:9000', '/bench/small/000001', {}, headers));
  assert.is(mine.headers['x-amz-date'], '20261121T234506Z');
  assert.is(mine.path, '/bench/small/000001');
});

test('LIST with a query string and a key needing escapes matches the AWS SDK signer', async () => {
  const query = { 'list-type': '2', prefix: 'small dir/(x)', 'max-keys': '1000', 'continuation-token': 'a/b+c=' };
  const mine = ours.sign({ method: 'GET', host: 'localhost:9000', path: '/bench', query }, when);
  assert.is(mine.headers['authorization'], await sdkAuthorization('GET', 'localhost:9000', '/bench', query, {}));
  assert.is(mine.path, '/bench?continuation-token=a%2Fb%2Bc%3D&list-type=2&max-keys=1000&prefix=small%20dir%2F%28x%29');
});

test('a key with unicode and spaces is encoded once and signed like the SDK', async () => {
  const path = '/bench/dir/ünï code*.txt';
  const mine = ours.sign({ method: 'HEAD', host: 'h:1', path }, when);
  assert.is(mine.headers['authorization'], await sdkAuthorization('HEAD', 'h:1', path, {}, {}));
  assert.is(mine.path, '/bench/dir/%C3%BCn%C3%AF%20code%2A.txt');
});

test('the signing key is derived once per day and reused', () => {
  const s = new SigV4Signer({ accessKey: 'a', secretKey: 'b', region: 'r' });
  const k1 = s.signingKey('20261121');
  assert.ok(s.signingKey('20261121') === k1, 'same Buffer object for the same day');
  assert.not.equal(s.signingKey('20261122'), k1);
});

test('canonical query sorts by encoded name and rejects nothing silently', () => {
  assert.is(canonicalQuery({ b: '1', a: '2', 'a-b': '' }), 'a=2&a-b=&b=1');
  assert.throws(() => new SigV4Signer({ accessKey: '', secretKey: 'x', region: 'r' }), /access key/);
});

test.run();
