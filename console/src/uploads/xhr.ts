// The browser's transport: XMLHttpRequest, because fetch() reports no upload progress. S3
// answers failures in XML; its Code and Message become the error a person reads.
import { CSRF_HEADER } from '../../../node-runtime/src/console/api.ts';
import { TransferError, type Transport } from './transport.ts';

export function s3ErrorOf(status: number, body: string): TransferError {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? `Http${status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? `The upload failed (HTTP ${status}).`;
  return new TransferError(status, code, decodeXml(message));
}

const decodeXml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

export function xhrTransport(csrfToken: () => string): Transport {
  return {
    put(url, body, contentType, onProgress, signal) {
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('PUT', url);
        xhr.setRequestHeader(CSRF_HEADER, csrfToken());
        if (contentType) xhr.setRequestHeader('content-type', contentType);
        xhr.upload.onprogress = (e) => onProgress(e.loaded);
        xhr.onload = () => {
          if (xhr.status >= 200 && xhr.status < 300) resolve({ etag: xhr.getResponseHeader('etag') ?? '' });
          else
            reject(
              xhr.status === 401
                ? new TransferError(401, 'Unauthenticated', 'Your session ended; sign in again and retry.')
                : s3ErrorOf(xhr.status, xhr.responseText),
            );
        };
        xhr.onerror = () => reject(new TransferError(0, 'NetworkError', 'The connection failed.'));
        xhr.ontimeout = xhr.onerror;
        signal.addEventListener('abort', () => xhr.abort(), { once: true });
        xhr.onabort = () => reject(new TransferError(0, 'Aborted', 'Stopped.'));
        xhr.send(body as Blob);
      });
    },
  };
}
