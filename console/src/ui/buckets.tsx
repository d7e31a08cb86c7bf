// The buckets the user's key can see (S3 ListBuckets as that key), and a new one.
import { useEffect, useState } from 'preact/hooks';
import type { BucketEntry } from '../../../node-runtime/src/console/api.ts';
import { api, errorText } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { folderPath } from '../paths.ts';
import { linkClick } from '../router.ts';
import { Modal } from './dialog.tsx';
import { EmptyState, ErrorBanner, Spinner } from './feedback.tsx';
import { Icon } from './icons.tsx';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function BucketsPage() {
  const [buckets, setBuckets] = useState<BucketEntry[] | undefined>();
  const [error, setError] = useState('');
  const [creating, setCreating] = useState(false);

  const load = () => {
    setError('');
    api.buckets().then(setBuckets, (e) => setError(errorText(e)));
  };
  useEffect(load, []);

  return (
    <section class="page" aria-labelledby="buckets-title">
      <div class="page-head">
        <h1 id="buckets-title">Buckets</h1>
        <div class="page-actions">
          <button type="button" class="button" onClick={load} aria-label="Refresh">
            <Icon name="refresh" />
          </button>
          <button type="button" class="button primary" onClick={() => setCreating(true)}>
            <Icon name="plus" />
            New bucket
          </button>
        </div>
      </div>
      {error && <ErrorBanner message={error} onRetry={load} />}
      {!buckets && !error && (
        <div class="centered">
          <Spinner />
        </div>
      )}
      {buckets && buckets.length === 0 && (
        <EmptyState icon="bucket" title="No buckets yet">
          Create one to keep files in it.
        </EmptyState>
      )}
      {buckets && buckets.length > 0 && (
        <ul class="bucket-grid" aria-label="Buckets">
          {buckets.map((b) => {
            const to = folderPath(b.name, '');
            return (
              <li key={b.name}>
                <a class="bucket-card" href={to} onClick={linkClick(to)}>
                  <Icon name="bucket" size={24} />
                  <span class="bucket-name">{b.name}</span>
                  <span class="muted small">Created {formatDateTime(b.createdAt)}</span>
                </a>
              </li>
            );
          })}
        </ul>
      )}
      {creating && (
        <NewBucketDialog
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            load();
          }}
        />
      )}
    </section>
  );
}

function NewBucketDialog({ onClose, onCreated }: { onClose(): void; onCreated(): void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const problem = name && !BUCKET_NAME.test(name) ? '3-63 lower-case letters, digits, dots and hyphens; starts and ends with a letter or digit.' : '';
  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    try {
      await api.createBucket(name);
      onCreated();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }
  return (
    <Modal title="New bucket" onClose={onClose}>
      <form onSubmit={submit} class="stack">
        <label class="field">
          <span>Name</span>
          <input
            value={name}
            onInput={(e) => setName(e.currentTarget.value.toLowerCase())}
            autofocus
            spellcheck={false}
            autocapitalize="off"
            aria-invalid={!!problem}
            aria-describedby="bucket-hint"
          />
        </label>
        <p id="bucket-hint" class={problem ? 'form-error' : 'muted small'}>
          {problem || 'Bucket names are shared by the whole cluster.'}
        </p>
        {error && <ErrorBanner message={error} />}
        <div class="actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={!name || !!problem || busy}>
            Create
          </button>
        </div>
      </form>
    </Modal>
  );
}
