// The file browser's dialogs: new folder, rename/move, delete (with confirmation), share a link.
import { useEffect, useState } from 'preact/hooks';
import type { ObjectEntry, ShareLink } from '../../../../node-runtime/src/console/api.ts';
import { api, errorText } from '../../api.ts';
import { formatDateTime, formatRelative } from '../../format.ts';
import { nameOf, nameProblem } from '../../paths.ts';
import { Modal } from '../dialog.tsx';
import { ErrorBanner } from '../feedback.tsx';
import { Icon } from '../icons.tsx';

function useAction<T>(): { busy: boolean; error: string; run(f: () => Promise<T>): Promise<{ ok: boolean; value?: T }>; setError(s: string): void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  return {
    busy,
    error,
    setError,
    async run(f) {
      setBusy(true);
      setError('');
      try {
        return { ok: true, value: await f() };
      } catch (e) {
        setError(errorText(e));
        return { ok: false };
      } finally {
        setBusy(false);
      }
    },
  };
}

export function NewFolderDialog({ bucket, prefix, onClose, onCreated }: { bucket: string; prefix: string; onClose(): void; onCreated(key: string): void }) {
  const [name, setName] = useState('');
  const action = useAction<void>();
  const problem = name ? nameProblem(name) : undefined;
  async function submit(e: Event) {
    e.preventDefault();
    const key = `${prefix}${name.trim()}/`;
    if ((await action.run(() => api.createFolder(bucket, key))).ok) onCreated(key);
  }
  return (
    <Modal title="New folder" onClose={onClose}>
      <form class="stack" onSubmit={submit}>
        <label class="field">
          <span>Name</span>
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} autofocus aria-invalid={!!problem} />
        </label>
        {problem && <p class="form-error">{problem}</p>}
        {action.error && <ErrorBanner message={action.error} />}
        <div class="actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={!name.trim() || !!problem || action.busy}>
            Create folder
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function RenameDialog({ bucket, entry, onClose, onMoved }: { bucket: string; entry: ObjectEntry; onClose(): void; onMoved(to: string): void }) {
  // The whole key is editable: changing the name renames, changing the folders moves.
  const [to, setTo] = useState(entry.folder ? entry.key.slice(0, -1) : entry.key);
  const action = useAction<unknown>();
  const target = entry.folder ? `${to.replace(/\/+$/, '')}/` : to;
  const problem = !to.trim() ? 'The name is empty.' : nameProblem(nameOf(target));
  async function submit(e: Event) {
    e.preventDefault();
    if ((await action.run(() => api.move(bucket, entry.key, target))).ok) onMoved(target);
  }
  return (
    <Modal title={entry.folder ? 'Rename or move folder' : 'Rename or move file'} onClose={onClose}>
      <form class="stack" onSubmit={submit}>
        <label class="field">
          <span>Path in {bucket}</span>
          <input value={to} onInput={(e) => setTo(e.currentTarget.value)} autofocus spellcheck={false} aria-describedby="rename-hint" />
        </label>
        <p id="rename-hint" class={problem ? 'form-error' : 'muted small'}>
          {problem ?? 'Change the folders in the path to move it. S3 has no rename: the file is copied, then the old one deleted.'}
        </p>
        {action.error && <ErrorBanner message={action.error} />}
        <div class="actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={!!problem || target === entry.key || action.busy}>
            {action.busy ? 'Moving…' : 'Rename'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function DeleteDialog({
  bucket,
  keys,
  onClose,
  onDeleted,
}: {
  bucket: string;
  keys: string[];
  onClose(): void;
  onDeleted(keys: string[], failed: string[]): void;
}) {
  const action = useAction<void>();
  const folders = keys.filter((k) => k.endsWith('/')).length;
  async function confirmDelete() {
    await action.run(async () => {
      const res = await api.remove(bucket, keys);
      const failed = res.errors.map((e) => e.key);
      if (res.errors.length) action.setError(`${res.errors.length} could not be deleted: ${res.errors[0].message}`);
      onDeleted(keys, failed);
    });
  }
  const what = keys.length === 1 ? `“${nameOf(keys[0])}”` : `${keys.length} items`;
  return (
    <Modal
      title={`Delete ${what}?`}
      onClose={onClose}
      footer={
        <div class="actions">
          <button type="button" class="button" onClick={onClose} autofocus>
            Cancel
          </button>
          <button type="button" class="button danger" onClick={confirmDelete} disabled={action.busy}>
            <Icon name="trash" />
            {action.busy ? 'Deleting…' : 'Delete'}
          </button>
        </div>
      }
    >
      <p>{folders > 0 ? 'Folders are deleted with everything in them. ' : ''}This cannot be undone.</p>
      {keys.length > 1 && (
        <ul class="delete-list">
          {keys.slice(0, 8).map((k) => (
            <li key={k}>
              {nameOf(k)}
              {k.endsWith('/') ? '/' : ''}
            </li>
          ))}
          {keys.length > 8 && <li>…and {keys.length - 8} more</li>}
        </ul>
      )}
      {action.error && <ErrorBanner message={action.error} />}
    </Modal>
  );
}

const EXPIRIES: [number, string][] = [
  [3600, '1 hour'],
  [86400, '1 day'],
  [7 * 86400, '7 days'],
];

export function ShareDialog({ bucket, entry, onClose }: { bucket: string; entry: ObjectEntry; onClose(): void }) {
  const [seconds, setSeconds] = useState(86400);
  const [link, setLink] = useState<ShareLink | undefined>();
  const [copied, setCopied] = useState(false);
  const [now, setNow] = useState(Date.now());
  const action = useAction<ShareLink>();
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);

  async function create(e: Event) {
    e.preventDefault();
    setCopied(false);
    const { value } = await action.run(() => api.share(bucket, entry.key, seconds));
    if (value) {
      setLink(value);
      setNow(Date.now());
    }
  }
  async function copy() {
    try {
      await navigator.clipboard.writeText(link!.url);
    } catch {
      (document.getElementById('share-url') as HTMLInputElement).select();
      document.execCommand('copy');
    }
    setCopied(true);
  }
  return (
    <Modal title={`Share “${nameOf(entry.key)}”`} onClose={onClose}>
      <form class="stack" onSubmit={create}>
        <fieldset class="segmented">
          <legend>The link works for</legend>
          {EXPIRIES.map(([s, label]) => (
            <label key={s} class={seconds === s ? 'on' : ''}>
              <input
                type="radio"
                name="expiry"
                value={s}
                checked={seconds === s}
                onChange={() => {
                  setSeconds(s);
                  setLink(undefined);
                }}
              />
              {label}
            </label>
          ))}
        </fieldset>
        <p class="muted small">Anyone with the link can download this file until it expires. It is signed with your key: deleting the key ends it early.</p>
        {action.error && <ErrorBanner message={action.error} />}
        {!link && (
          <div class="actions">
            <button type="submit" class="button primary" disabled={action.busy}>
              <Icon name="share" />
              Create link
            </button>
          </div>
        )}
      </form>
      {link && (
        <div class="stack share-result">
          <label class="field">
            <span>Link</span>
            <input id="share-url" readOnly value={link.url} onFocus={(e) => e.currentTarget.select()} />
          </label>
          <p class="share-expiry" data-expires-at={link.expiresAt}>
            Expires {formatDateTime(link.expiresAt)} ({formatRelative(Date.parse(link.expiresAt), now)})
          </p>
          <div class="actions">
            <button type="button" class="button primary" onClick={copy}>
              <Icon name={copied ? 'check' : 'copy'} />
              {copied ? 'Copied' : 'Copy link'}
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}
