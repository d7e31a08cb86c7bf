// The access layer's errors: S3Errors with the codes and statuses S3 gives for bad ACLs, policies
// and grants (util/errors.ts has the codes every layer shares).
import { S3Error } from '../util/errors.ts';

const codes = {
  AccessDenied: 403,
  MalformedPolicy: 400,
  MalformedACLError: 400,
  InvalidArgument: 400,
  InvalidRequest: 400,
  NoSuchBucketPolicy: 404,
  NoSuchPublicAccessBlockConfiguration: 404,
  UnresolvableGrantByEmailAddress: 400,
  AccessControlListNotSupported: 400,
} as const;

export type AccessErrorCode = keyof typeof codes;

export function accessError(code: AccessErrorCode, message: string): S3Error {
  return new S3Error(code, codes[code], message);
}
