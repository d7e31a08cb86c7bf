// The console's one error type: an HTTP status and a code the app can act on. S3 errors keep their
// S3 code (AccessDenied, NoSuchKey, QuotaExceeded...), so the user reads S3's own verdict.
export class ConsoleError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryAfterSeconds?: number;

  constructor(code: string, status: number, message: string, opts: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'ConsoleError';
    this.code = code;
    this.status = status;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

export const badRequest = (message: string) => new ConsoleError('BadRequest', 400, message);
export const unauthenticated = () => new ConsoleError('Unauthenticated', 401, 'Sign in to continue.');
export const forbidden = (message: string) => new ConsoleError('Forbidden', 403, message);
export const notFound = (message = 'Not found.') => new ConsoleError('NotFound', 404, message);

// Status of the S3 codes a user meets; anything else from S3 is a bad gateway (S3 failed, not us).
const S3_STATUS: Record<string, number> = {
  AccessDenied: 403,
  InvalidAccessKeyId: 403,
  SignatureDoesNotMatch: 403,
  QuotaExceeded: 403,
  RequestTimeTooSkewed: 403,
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  NotFound: 404,
  BucketAlreadyExists: 409,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  PreconditionFailed: 412,
  InvalidBucketName: 400,
  InvalidArgument: 400,
  InvalidRequest: 400,
  KeyTooLongError: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  EntityTooSmall: 400,
  EntityTooLarge: 400,
  MalformedXML: 400,
  NotImplemented: 501,
  ServiceUnavailable: 503,
  SlowDown: 503,
};

const FRIENDLY: Record<string, string> = {
  AccessDenied: 'Access denied: your key may not do this.',
  NoSuchBucket: 'The bucket does not exist.',
  NoSuchKey: 'The file does not exist (any more).',
  NotFound: 'The file does not exist (any more).',
  BucketAlreadyExists: 'A bucket with that name exists already.',
  BucketAlreadyOwnedByYou: 'You have a bucket with that name already.',
  QuotaExceeded: "The bucket's quota is used up.",
};

/** An error from the S3 client (or the network under it) as a ConsoleError. */
export function fromS3(e: unknown): ConsoleError {
  if (e instanceof ConsoleError) return e;
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const network = code && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|UND_ERR_\w+)$/.test(code);
  if (network || err?.cause?.code === 'ECONNREFUSED') {
    return new ConsoleError('S3Unavailable', 503, 'The storage service did not answer; try again in a moment.', { cause: e });
  }
  if (code && S3_STATUS[code]) return new ConsoleError(code, S3_STATUS[code], FRIENDLY[code] ?? err.message ?? code, { cause: e });
  return new ConsoleError(code ?? 'S3Error', 502, `The storage service failed: ${err?.message ?? String(e)}`, { cause: e });
}
