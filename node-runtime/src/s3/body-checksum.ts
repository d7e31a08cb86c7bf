// The flexible checksum of one request body, computed as the bytes pass (payload.ts, chunked.ts)
// and checked at its end against what the client sent — a header up front or an aws-chunked
// trailer after the data. The value is what the object version (or part) keeps. The algorithms and
// their encodings are semantics/checksums.ts.
import type { StoredChecksum } from '../meta/records.ts';
import { s3Error } from '../util/errors.ts';
import { createChecksumHasher, verifyChecksum, type ChecksumAlgorithm, type ChecksumHasher, type RequestChecksum } from './semantics/checksums.ts';

export class BodyChecksum {
  readonly algorithm: ChecksumAlgorithm;
  private readonly hasher: ChecksumHasher;
  private readonly source: RequestChecksum['source'] | 'computed';
  private readonly sent: string | undefined;
  private result: string | undefined;

  /** `computed`: nothing was sent, but the checksum is wanted (a part of an upload that has one). */
  constructor(request: RequestChecksum | { algorithm: ChecksumAlgorithm; source: 'computed' }) {
    this.algorithm = request.algorithm;
    this.source = request.source;
    this.sent = request.source === 'header' ? request.value : undefined;
    this.hasher = createChecksumHasher(request.algorithm);
  }

  update(data: Uint8Array): void {
    if (this.result !== undefined) throw new Error('checksum updated after the body ended');
    this.hasher.update(data);
  }

  /**
   * The body ended: compute the value and check it against the header's, or against the trailer's
   * (`trailer`: the value of the announced trailer, undefined when the client sent none). BadDigest
   * on a mismatch.
   */
  finish(trailer?: string): void {
    if (this.result !== undefined) return;
    const computed = this.hasher.digest();
    this.result = computed;
    // A checksum announced in x-amz-trailer must arrive: an upload that says it is checked is.
    if (this.source === 'trailer' && trailer === undefined)
      throw s3Error('MalformedTrailerError', `The ${this.algorithm} trailer the request announced in x-amz-trailer was not sent.`);
    const sent = this.source === 'trailer' ? trailer : this.sent;
    if (sent !== undefined) verifyChecksum(this.algorithm, sent, computed);
  }

  /** The value, once the body has ended (whole-object: a plain PUT's, or one part's). */
  get value(): string | undefined {
    return this.result;
  }

  /** As an object version keeps it. */
  stored(): StoredChecksum | undefined {
    return this.result === undefined ? undefined : { algorithm: this.algorithm, type: 'FULL_OBJECT', value: this.result };
  }
}

/** A part must use its upload's algorithm (S3 refuses another one). */
export function checkPartAlgorithm(upload: ChecksumAlgorithm | undefined, sent: ChecksumAlgorithm | undefined): void {
  if (upload && sent && upload !== sent) {
    throw s3Error(
      'InvalidRequest',
      `Checksum Type mismatch occurred, expected checksum Type: ${upload.toLowerCase()}, actual checksum Type: ${sent.toLowerCase()}`,
    );
  }
}
