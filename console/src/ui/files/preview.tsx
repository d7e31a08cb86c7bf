// Preview of one file: images and PDFs from a presigned GET of the user (through /s3/, with a
// sandbox CSP on the response), text as the first 256 KiB read with a Range request and shown as
// plain text (never as HTML). Anything else offers the download.
import { useEffect, useState } from 'preact/hooks';
import type { ObjectEntry } from '../../../../node-runtime/src/console/api.ts';
import { api } from '../../api.ts';
import { formatBytes, formatDateTime } from '../../format.ts';
import { nameOf, previewKind } from '../../paths.ts';
import { s3ErrorOf } from '../../uploads/xhr.ts';
import { Modal } from '../dialog.tsx';
import { ErrorBanner, Spinner } from '../feedback.tsx';
import { Icon } from '../icons.tsx';

const TEXT_BYTES = 256 * 1024;

function TextPreview({ url, size }: { url: string; size: number }) {
  const [text, setText] = useState<string | undefined>();
  const [error, setError] = useState('');
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const ctrl = new AbortController();
    setError('');
    fetch(url, { headers: { range: `bytes=0-${TEXT_BYTES - 1}` }, signal: ctrl.signal })
      .then(async (res) => {
        const body = await res.text();
        if (!res.ok) throw s3ErrorOf(res.status, body);
        setText(body);
      })
      .catch((e) => {
        if (e.name !== 'AbortError') setError(e.message);
      });
    return () => ctrl.abort();
  }, [url, attempt]);
  if (error) return <ErrorBanner message={error} onRetry={() => setAttempt((a) => a + 1)} />;
  if (text === undefined)
    return (
      <div class="centered">
        <Spinner />
      </div>
    );
  return (
    <>
      <pre class="text-preview" aria-label="File content">
        {text}
      </pre>
      {size > TEXT_BYTES && (
        <p class="muted small">
          Showing the first {formatBytes(TEXT_BYTES)} of {formatBytes(size)}.
        </p>
      )}
    </>
  );
}

export function PreviewDialog({ bucket, entry, onClose, onShare }: { bucket: string; entry: ObjectEntry; onClose(): void; onShare(): void }) {
  const kind = previewKind(entry.key);
  const inline = api.contentUrl(bucket, entry.key, 'inline');
  const download = api.contentUrl(bucket, entry.key, 'attachment');
  const [imageFailed, setImageFailed] = useState(false);
  return (
    <Modal
      wide
      title={nameOf(entry.key)}
      onClose={onClose}
      footer={
        <div class="actions spread">
          <span class="muted small">
            {formatBytes(entry.size)} · {formatDateTime(entry.lastModified)}
          </span>
          <span class="actions">
            <button type="button" class="button" onClick={onShare}>
              <Icon name="share" />
              Share
            </button>
            <a class="button primary" href={download} download={nameOf(entry.key)}>
              <Icon name="download" />
              Download
            </a>
          </span>
        </div>
      }
    >
      <div class="preview" data-kind={kind ?? 'none'}>
        {kind === 'image' && !imageFailed && <img src={inline} alt={nameOf(entry.key)} onError={() => setImageFailed(true)} />}
        {kind === 'image' && imageFailed && (
          <ErrorBanner message="The image could not be loaded (it may be gone, or not an image)." onRetry={() => setImageFailed(false)} />
        )}
        {kind === 'pdf' && <iframe src={inline} title={`PDF: ${nameOf(entry.key)}`} />}
        {kind === 'text' && <TextPreview url={inline} size={entry.size} />}
        {!kind && <p class="muted">No preview for this kind of file.</p>}
      </div>
    </Modal>
  );
}
