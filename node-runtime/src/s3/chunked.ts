// Decoder for the aws-chunked body encoding (`x-amz-content-sha256: STREAMING-*`):
//   <hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n[<trailers>]\r\n
// Data passes through as it arrives (bounded memory); each chunk's signature is checked when the
// chunk ends and a mismatch errors the stream, so the consumer never sees a clean end and never
// commits the object. The decoded length must equal x-amz-decoded-content-length.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error, s3Error } from '../util/errors.ts';
import { type SignatureClaim, chunkStringToSign, EMPTY_SHA256, sign, signaturesEqual, trailerStringToSign } from './sigv4.ts';
import type { BodyChecksum } from './body-checksum.ts';

export interface ChunkSigning {
  claim: SignatureClaim;
  key: Buffer; // signing key from the header signature
  seedSignature: string; // the request's own signature starts the chain
}

export interface ChunkedOptions {
  decodedLength: number; // x-amz-decoded-content-length
  signing?: ChunkSigning; // absent for STREAMING-UNSIGNED-PAYLOAD-TRAILER
  trailer?: string; // x-amz-trailer: the checksum header announced for the trailer
  checksum?: BodyChecksum; // computed over the decoded data; checked against the header or the trailer
}

const MAX_LINE = 4096;
const malformed = (why: string) => new S3Error('IncompleteBody', 400, `Malformed aws-chunked body: ${why}`);

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done';

export class AwsChunkedDecoder extends Transform {
  private state: State = 'size';
  private line = Buffer.alloc(0);
  private remaining = 0;
  private chunkSig = '';
  private chunkHash: Hash | undefined;
  private previousSig: string;
  private decoded = 0;
  private readonly opts: ChunkedOptions;
  private readonly trailerLines: string[] = [];
  private readonly checksum: BodyChecksum | undefined;

  constructor(opts: ChunkedOptions) {
    super();
    this.opts = opts;
    this.previousSig = opts.signing?.seedSignature ?? '';
    this.checksum = opts.checksum;
  }

  override _transform(buf: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      let pos = 0;
      while (pos < buf.length) {
        if (this.state === 'data') {
          const n = Math.min(this.remaining, buf.length - pos);
          const slice = buf.subarray(pos, pos + n);
          this.chunkHash?.update(slice);
          this.checksum?.update(slice);
          this.push(slice);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.state = 'data-crlf';
          continue;
        }
        if (this.state === 'done') {
          pos = buf.length;
          break;
        } // bytes after the end are ignored
        // The other states read CRLF-terminated lines.
        const nl = buf.indexOf(0x0a, pos);
        const end = nl < 0 ? buf.length : nl + 1;
        this.line = Buffer.concat([this.line, buf.subarray(pos, end)]);
        pos = end;
        if (this.line.length > MAX_LINE) throw malformed('line too long');
        if (nl < 0) break;
        const text = this.line.toString('latin1').replace(/\r?\n$/, '');
        this.line = Buffer.alloc(0);
        this.onLine(text);
      }
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  private onLine(text: string): void {
    if (this.state === 'data-crlf') {
      if (text !== '') throw malformed('chunk data longer than its size');
      this.endChunk();
      this.state = 'size';
      return;
    }
    if (this.state === 'size') {
      const semi = text.indexOf(';');
      const sizeText = semi < 0 ? text : text.slice(0, semi);
      if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw malformed('bad chunk size');
      const size = parseInt(sizeText, 16);
      this.chunkSig = '';
      if (semi >= 0) {
        const ext = text.slice(semi + 1);
        if (ext.startsWith('chunk-signature=')) this.chunkSig = ext.slice('chunk-signature='.length).toLowerCase();
      }
      if (this.opts.signing && !this.chunkSig) throw s3Error('SignatureDoesNotMatch', 'Chunk signature missing.');
      this.decoded += size;
      if (this.decoded > this.opts.decodedLength) throw s3Error('IncompleteBody', 'The aws-chunked body is longer than x-amz-decoded-content-length.');
      this.chunkHash = this.opts.signing ? createHash('sha256') : undefined;
      if (size === 0) {
        this.endChunk();
        this.state = 'trailer';
      } else {
        this.remaining = size;
        this.state = 'data';
      }
      return;
    }
    if (this.state === 'trailer') {
      if (text === '') return this.endTrailer();
      this.trailerLines.push(text);
      if (this.trailerLines.length > 16) throw malformed('too many trailers');
    }
  }

  private endChunk(): void {
    const signing = this.opts.signing;
    if (!signing) return;
    const hash = this.chunkHash ? this.chunkHash.digest('hex') : EMPTY_SHA256;
    const expected = sign(signing.key, chunkStringToSign(signing.claim, this.previousSig, hash));
    if (!signaturesEqual(expected, this.chunkSig)) throw s3Error('SignatureDoesNotMatch', 'The chunk signature does not match.');
    this.previousSig = expected;
  }

  private endTrailer(): void {
    const headers = new Map<string, string>();
    let trailerSig: string | undefined;
    const signedText: string[] = [];
    for (const line of this.trailerLines) {
      const colon = line.indexOf(':');
      if (colon < 0) throw malformed('bad trailer');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'x-amz-trailer-signature') trailerSig = value.toLowerCase();
      else {
        headers.set(name, value);
        signedText.push(`${name}:${value}\n`);
      }
    }
    const signing = this.opts.signing;
    if (signing && this.trailerLines.length > 0) {
      const expected = sign(signing.key, trailerStringToSign(signing.claim, this.previousSig, signedText.join('')));
      if (!trailerSig || !signaturesEqual(expected, trailerSig)) throw s3Error('SignatureDoesNotMatch', 'The trailer signature does not match.');
    }
    this.checksum?.finish(this.opts.trailer ? headers.get(this.opts.trailer.toLowerCase()) : undefined);
    this.state = 'done';
  }

  override _flush(cb: TransformCallback): void {
    // A body that stops before its final chunk (or short of the decoded length) is incomplete.
    if (this.state === 'trailer' && this.line.length === 0) {
      try {
        this.endTrailer();
      } catch (e) {
        return cb(e as Error);
      }
    }
    if (this.state !== 'done' || this.decoded !== this.opts.decodedLength) return cb(s3Error('IncompleteBody'));
    cb();
  }
}
