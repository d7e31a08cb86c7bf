// The upload panel: total progress and each file's, with pause/resume, cancel and retry; a failed
// file says why (S3's own message). It stays out of the way (collapsible) and never covers the
// page's controls on a phone (it docks at the bottom, full width).
import { useEffect, useState } from 'preact/hooks';
import { formatBytes, formatPercent } from '../format.ts';
import { nameOf } from '../paths.ts';
import type { UploadItem } from '../uploads/uploader.ts';
import type { Uploads } from './app.tsx';
import { ProgressBar } from './feedback.tsx';
import { Icon } from './icons.tsx';

const STATE_TEXT: Record<UploadItem['state'], string> = {
  queued: 'Waiting',
  uploading: '',
  paused: 'Paused',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

function UploadRow({ item, uploads }: { item: UploadItem; uploads: Uploads }) {
  const q = uploads.queue;
  const pct = formatPercent(item.loaded, item.size || 1);
  return (
    <li class={`upload-row ${item.state}`} data-key={item.key}>
      <div class="upload-line">
        <span class="upload-name" title={item.key}>
          {nameOf(item.key)}
        </span>
        <span class="upload-state">{item.state === 'uploading' ? pct : STATE_TEXT[item.state]}</span>
        <span class="upload-actions">
          {(item.state === 'uploading' || item.state === 'queued') && (
            <button type="button" class="icon-button" onClick={() => q.pause(item.id)} aria-label={`Pause ${nameOf(item.key)}`}>
              <Icon name="pause" size={16} />
            </button>
          )}
          {item.state === 'paused' && (
            <button type="button" class="icon-button" onClick={() => q.resume(item.id)} aria-label={`Resume ${nameOf(item.key)}`}>
              <Icon name="play" size={16} />
            </button>
          )}
          {item.state === 'failed' && (
            <button type="button" class="icon-button" onClick={() => q.resume(item.id)} aria-label={`Retry ${nameOf(item.key)}`}>
              <Icon name="retry" size={16} />
            </button>
          )}
          {item.state !== 'done' && item.state !== 'cancelled' && (
            <button type="button" class="icon-button" onClick={() => q.cancel(item.id)} aria-label={`Cancel ${nameOf(item.key)}`}>
              <Icon name="close" size={16} />
            </button>
          )}
        </span>
      </div>
      <ProgressBar
        value={item.state === 'done' ? 1 : item.loaded}
        max={item.state === 'done' ? 1 : item.size || 1}
        label={`Upload of ${nameOf(item.key)}`}
        tone={item.state === 'failed' ? 'danger' : item.state === 'done' ? 'ok' : undefined}
      />
      {item.error && (
        <p class="upload-error" role="alert">
          {item.error}
        </p>
      )}
    </li>
  );
}

export function UploadsPanel({ uploads }: { uploads: Uploads }) {
  const [, setTick] = useState(0);
  const [open, setOpen] = useState(true);
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    uploads.onChange.add(l);
    return () => {
      uploads.onChange.delete(l);
    };
  }, []);
  const items = uploads.queue.items().filter((i) => i.state !== 'cancelled');
  if (items.length === 0) return null;
  const t = uploads.queue.totals();
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const title =
    t.active > 0
      ? `Uploading ${t.active} of ${plural(t.files, 'file')}`
      : t.paused || t.failed
        ? [t.paused && `${t.paused} paused`, t.failed && `${t.failed} failed`, t.done && `${t.done} done`].filter(Boolean).join(', ')
        : `${plural(t.done, 'upload')} done`;
  return (
    <aside class="uploads" aria-label="Uploads">
      <div class="uploads-head">
        <button type="button" class="uploads-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
          <Icon name="upload" />
          <span class="uploads-title">{title}</span>
          <span class="muted small">
            {formatBytes(t.loaded)} / {formatBytes(t.size)}
          </span>
        </button>
        {t.active === 0 && (
          <button type="button" class="button small" onClick={() => uploads.queue.clearFinished()}>
            Clear
          </button>
        )}
      </div>
      <ProgressBar value={t.loaded} max={t.size || 1} label="Total upload progress" tone={t.failed ? 'danger' : undefined} />
      {open && (
        <ul class="upload-list">
          {items.map((i) => (
            <UploadRow key={i.id} item={i} uploads={uploads} />
          ))}
        </ul>
      )}
    </aside>
  );
}
