// The request body as the ObjectService should see it: decoded (aws-chunked), verified (signed
// payload hash, flexible checksum) and with its size. Verification failures error the stream
// before its end, so the engine never commits an object from a body that did not check out.
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import { isS3Error, S3Error, s3Error } from '../util/errors.ts';
import type { Caller } from './auth.ts';
import { AwsChunkedDecoder } from './chunked.ts';
import { BodyChecksum, checkPartAlgorithm } from './body-checksum.ts';
import { requestChecksum, type ChecksumAlgorithm } from './semantics/checksums.ts';
import { STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER, UNSIGNED_PAYLOAD } from './sigv4.ts';

export const MAX_PUT_SIZE = 5 * 1024 ** 3;

/** A request body as the ObjectService takes it: `size` undefined when the client did not say
 *  (Transfer-Encoding: chunked); `checksum` has its value once `body` has ended. */
export interface Payload {
  body: Readable;
  size: number | undefined;
  checksum?: BodyChecksum;
}

class VerifyingStream extends Transform {
  private readonly hash: Hash | undefined;
  private readonly expectedHash: string | undefined;
  private readonly checksum: BodyChecksum | undefined;

  constructor(expectedSha256: string | undefined, checksum: BodyChecksum | undefined) {
    super();
    this.expectedHash = expectedSha256;
    this.hash = expectedSha256 ? createHash('sha256') : undefined;
    this.checksum = checksum;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash?.update(chunk);
    this.checksum?.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.hash && this.hash.digest('hex') !== this.expectedHash) return cb(s3Error('XAmzContentSHA256Mismatch'));
    try {
      this.checksum?.finish();
    } catch (e) {
      return cb(e as Error);
    }
    cb();
  }
}

/**
 * The body's flexible checksum: the one the client sent (a header, or a trailer it announced), else
 * `wanted`'s (a part of an upload that has an algorithm), else none. Refused when both are given
 * and differ.
 */
function bodyChecksum(req: IncomingMessage, wanted: ChecksumAlgorithm | undefined): BodyChecksum | undefined {
  const sent = requestChecksum(req.headers);
  checkPartAlgorithm(wanted, sent?.algorithm);
  if (sent) return new BodyChecksum(sent);
  return wanted ? new BodyChecksum({ algorithm: wanted, source: 'computed' }) : undefined;
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

/**
 * Wrap the request body for a write; throws MissingContentLength / EntityTooLarge up front. A body
 * without a Content-Length is taken when it comes with Transfer-Encoding: chunked (its size is what
 * arrives). `checksum`: the algorithm the write needs a checksum of even if the client sent none.
 */
export function requestPayload(req: IncomingMessage, caller: Caller, maxSize = MAX_PUT_SIZE, opts: { checksum?: ChecksumAlgorithm } = {}): Payload {
  const mode = caller.payloadHash;
  const checksum = bodyChecksum(req, opts.checksum);
  if (mode === STREAMING_SIGNED || mode === STREAMING_SIGNED_TRAILER || mode === STREAMING_UNSIGNED_TRAILER) {
    const decodedText = req.headers['x-amz-decoded-content-length'];
    if (typeof decodedText !== 'string' || !/^\d+$/.test(decodedText))
      throw s3Error('MissingContentLength', 'You must provide the x-amz-decoded-content-length header with aws-chunked bodies.');
    const size = Number(decodedText);
    if (size > maxSize) throw s3Error('EntityTooLarge');
    const signed = mode !== STREAMING_UNSIGNED_TRAILER;
    if (signed && !(caller.claim && caller.signingKey)) throw s3Error('AccessDenied', 'Signed aws-chunked bodies need a header signature.');
    const trailer = req.headers['x-amz-trailer'];
    const decoder = new AwsChunkedDecoder({
      decodedLength: size,
      signing: signed ? { claim: caller.claim!, key: caller.signingKey!, seedSignature: caller.claim!.signature } : undefined,
      trailer: typeof trailer === 'string' ? trailer.trim() : undefined,
      checksum,
    });
    return { body: chain(req, decoder), size, checksum };
  }
  const size = declaredLength(req);
  if (size !== undefined && size > maxSize) throw s3Error('EntityTooLarge');
  const signedHash = mode === UNSIGNED_PAYLOAD ? undefined : mode;
  const verified = signedHash || checksum ? new VerifyingStream(signedHash, checksum) : new PassThrough();
  const body = chain(req, verified);
  if (size !== undefined) return { body, size, checksum };
  const limited = new AtMost(maxSize);
  body.on('error', (e) => limited.destroy(e));
  return { body: body.pipe(limited), size, checksum };
}

/** Content-Length, or undefined for a chunked body (Transfer-Encoding: chunked); MissingContentLength otherwise. */
function declaredLength(req: IncomingMessage): number | undefined {
  const lengthText = req.headers['content-length'];
  if (typeof lengthText === 'string' && /^\d+$/.test(lengthText)) return Number(lengthText);
  if (lengthText === undefined && /(^|,)\s*chunked\s*$/i.test(req.headers['transfer-encoding'] ?? '')) return undefined;
  throw s3Error('MissingContentLength');
}

/** A body of unknown length stops with EntityTooLarge once it passes `max`. */
class AtMost extends Transform {
  private seen = 0;
  private readonly max: number;
  constructor(max: number) {
    super();
    this.max = max;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) return cb(s3Error('EntityTooLarge'));
    cb(null, chunk);
  }
}

/** Read a small request body (XML documents) fully, bounded; verifies a signed payload hash. */
export async function readSmallBody(req: IncomingMessage, caller: Caller, limit = 2 * 1024 * 1024, opts: { objectChecksum?: boolean } = {}): Promise<string> {
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
  checkDocumentDigests(req, buf, !caller.payloadHash.startsWith('STREAMING-') && !opts.objectChecksum);
  return buf.toString('utf8');
}

/**
 * A document's Content-MD5, and the flexible checksum header the SDKs send in its place
 * (`flexible`: false when an aws-chunked decoder already checked it, or when the request's
 * x-amz-checksum-* headers describe an object instead, as CompleteMultipartUpload's do).
 */
function checkDocumentDigests(req: IncomingMessage, buf: Buffer, flexible: boolean): void {
  const md5 = req.headers['content-md5'];
  if (md5 !== undefined) {
    if (typeof md5 !== 'string' || !/^[A-Za-z0-9+/]{22}==$/.test(md5.trim())) throw s3Error('InvalidDigest');
    if (createHash('md5').update(buf).digest('base64') !== md5.trim()) throw s3Error('BadDigest');
  }
  const sent = flexible ? requestChecksum(req.headers) : undefined;
  if (sent?.source === 'header') {
    const checksum = new BodyChecksum(sent);
    checksum.update(buf);
    checksum.finish();
  }
}
