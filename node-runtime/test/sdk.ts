// Test helper for suites driven with the AWS SDK v3: a client as a node's root user, and the S3
// error a request ended with (code and status), so each suite does not write its own.
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';

/** An SDK client of a running node (its endpoint and keys), path-style, no retries. */
export function sdkClient(p: { endpoint: string; accessKey: string; secretKey: string }, keys?: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({
    endpoint: p.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: keys ?? { accessKeyId: p.accessKey, secretAccessKey: p.secretKey },
  });
}

/** The S3 error `p` failed with, or `{ code: 'no error' }`. */
export async function failure(p: Promise<unknown>): Promise<{ code: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return { code: e.name, status: e.$metadata.httpStatusCode };
    throw e;
  }
  return { code: 'no error' };
}
