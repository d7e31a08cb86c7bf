// Child process for log-redaction.test.ts: writes log lines full of secrets to stdout (pino's
// destination), inside a request context, so the test can read exactly what would reach a log store.
import { logger } from '../src/util/log.ts';
import { withRequestId } from '../src/observability/request-id.ts';

const log = logger('s3', { node: 'nodes-0' });
withRequestId('REQ123', () => {
  log.warn({ secretAccessKey: 'TOPSECRET1', accessKeyId: 'AKIAPUBLIC' }, 'top-level key');
  log.warn({ key: { secretAccessKey: 'TOPSECRET2', name: 'k' } }, 'nested key');
  log.warn(
    {
      req: {
        method: 'PUT',
        headers: {
          authorization: 'AWS4-HMAC-SHA256 Credential=AKIAPUBLIC/20261121/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=deadbeefdeadbeefdeadbeef01',
        },
      },
    },
    'deep header',
  );
  log.warn({ url: '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=cafebabecafebabe02&X-Amz-Expires=60' }, 'presigned url');
  log.warn({ config: { clusterSecret: 'TOPSECRET3', password: 'TOPSECRET4', secretName: 'bucket-creds' }, items: [{ token: 'TOPSECRET5' }] }, 'config');
  log.warn('message with Signature=feedfacefeedface03 inline');
});
