// The request body as the ObjectService should see it: decoded (aws-chunked), verified (signed
// payload hash, flexible checksum) and with its size. Verification failures error the stream
// before its end, so the engine never commits an object from a body that did not check out.
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import { isS3Error, S3Error, s3Error } from '../util/errors.ts';
import type { Caller } from './auth.ts';
import { AwsChunkedDecoder } from './chunked.ts';
import { createChecksum, type Checksum } from './checksum.ts';
import { STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER, UNSIGNED_PAYLOAD } from './sigv4.ts';

export const MAX_PUT_SIZE = 5 * 1024 ** 3;

export interface Payload { body: Readable; size: number }

class VerifyingStream extends Transform {
  private readonly hash: Hash | undefined;
  private readonly expectedHash: string | undefined;
  private readonly checksum: Checksum | undefined;
  private readonly checksumValue: string | undefined;

  constructor(expectedSha256: string | undefined, checksum?: { header: string; value: string }) {
    super();
    this.expectedHash = expectedSha256;
    this.hash = expectedSha256 ? createHash('sha256') : undefined;
    this.checksum = checksum ? createChecksum(checksum.header) : undefined;
    this.checksumValue = checksum?.value;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash?.update(chunk);
    this.checksum?.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.hash && this.hash.digest('hex') !== this.expectedHash) return cb(s3Error('XAmzContentSHA256Mismatch'));
    try {
      if (this.checksum && this.checksumValue !== undefined) this.checksum.verify(this.checksumValue);
    } catch (e) { return cb(e as Error); }
    cb();
  }
}

function headerChecksum(req: IncomingMessage): { header: string; value: string } | undefined {
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-type' && name !== 'x-amz-checksum-algorithm' && typeof value === 'string') {
      return { header: name, value };
    }
  }
  return undefined;
}

/**
 * Pipe the request body into `stage`. A client that vanishes errors `stage` (its consumer fails
 * the write); one that half-closes before sending all it declared gets IncompleteBody on the
 * still-open half of the connection instead of waiting for a server timeout.
 */
function chain(req: IncomingMessage, stage: Transform): Readable {
  req.on('error', (e) => stage.destroy(e));
  req.pipe(stage);
  const socket = req.socket;
  const onClientEnd = () => {
    if (req.complete) return;
    req.unpipe(stage);
    stage.destroy(s3Error('IncompleteBody'));
  };
  socket.once('end', onClientEnd);
  const detach = () => socket.off('end', onClientEnd);
  req.once('end', detach);
  stage.once('close', detach);
  return stage;
}

/** Wrap the request body for a write; throws MissingContentLength / EntityTooLarge up front. */
export function requestPayload(req: IncomingMessage, caller: Caller, maxSize = MAX_PUT_SIZE): Payload {
  const mode = caller.payloadHash;
  if (mode === STREAMING_SIGNED || mode === STREAMING_SIGNED_TRAILER || mode === STREAMING_UNSIGNED_TRAILER) {
    const decodedText = req.headers['x-amz-decoded-content-length'];
    if (typeof decodedText !== 'string' || !/^\d+$/.test(decodedText)) throw s3Error('MissingContentLength', 'You must provide the x-amz-decoded-content-length header with aws-chunked bodies.');
    const size = Number(decodedText);
    if (size > maxSize) throw s3Error('EntityTooLarge');
    const signed = mode !== STREAMING_UNSIGNED_TRAILER;
    if (signed && !(caller.claim && caller.signingKey)) throw s3Error('AccessDenied', 'Signed aws-chunked bodies need a header signature.');
    const trailer = req.headers['x-amz-trailer'];
    const decoder = new AwsChunkedDecoder({
      decodedLength: size,
      signing: signed ? { claim: caller.claim!, key: caller.signingKey!, seedSignature: caller.claim!.signature } : undefined,
      trailer: typeof trailer === 'string' ? trailer.trim() : undefined,
    });
    return { body: chain(req, decoder), size };
  }
  const lengthText = req.headers['content-length'];
  if (typeof lengthText !== 'string' || !/^\d+$/.test(lengthText)) throw s3Error('MissingContentLength');
  const size = Number(lengthText);
  if (size > maxSize) throw s3Error('EntityTooLarge');
  const signedHash = mode === UNSIGNED_PAYLOAD ? undefined : mode;
  const checksum = headerChecksum(req);
  const stage = signedHash || checksum ? new VerifyingStream(signedHash, checksum) : new PassThrough();
  return { body: chain(req, stage), size };
}

/** Read a small request body (XML documents) fully, bounded; verifies a signed payload hash. */
export async function readSmallBody(req: IncomingMessage, caller: Caller, limit = 2 * 1024 * 1024): Promise<string> {
  const tooBig = () => new S3Error('MaxMessageLengthExceeded', 400, 'Your request was too big.');
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooBig();
  const parts: Buffer[] = [];
  let total = 0;
  const body = caller.payloadHash.startsWith('STREAMING-') ? requestPayload(req, caller, limit).body : req;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) throw tooBig();
      parts.push(chunk);
    }
  } catch (e) {
    throw isS3Error(e) ? e : s3Error('IncompleteBody', undefined, { cause: e });
  }
  const buf = Buffer.concat(parts);
  const hash = caller.payloadHash;
  if (/^[0-9a-f]{64}$/.test(hash) && createHash('sha256').update(buf).digest('hex') !== hash) throw s3Error('XAmzContentSHA256Mismatch');
  return buf.toString('utf8');
}
