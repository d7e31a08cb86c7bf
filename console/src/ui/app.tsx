// The app shell: the session, the header, the screens by path, the upload queue shared by every
// folder, and the "session ended" dialog that signs the user in again without losing anything.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { SessionInfo } from '../../../node-runtime/src/console/api.ts';
import { api, session as apiSession, uploadApi } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { parseFolderPath } from '../paths.ts';
import { linkClick, useLocation } from '../router.ts';
import { Uploader, type UploadItem } from '../uploads/uploader.ts';
import { xhrTransport } from '../uploads/xhr.ts';
import { BucketsPage } from './buckets.tsx';
import { ClusterPage } from './cluster.tsx';
import { Modal } from './dialog.tsx';
import { FileBrowser } from './files/browser.tsx';
import { Icon } from './icons.tsx';
import { SignInForm, SignInPage } from './sign-in.tsx';
import { UploadsPanel } from './uploads-panel.tsx';

/** The upload queue plus listeners (the panel re-renders on change; folders add finished files). */
export interface Uploads {
  queue: Uploader;
  onChange: Set<() => void>;
  onFileDone: Set<(item: UploadItem) => void>;
}

function createUploads(): Uploads {
  const onChange = new Set<() => void>();
  const onFileDone = new Set<(item: UploadItem) => void>();
  let frame = 0;
  const queue = new Uploader(
    uploadApi,
    xhrTransport(() => apiSession.csrfToken),
    {
      // Progress events come per XHR chunk; one render per frame is plenty.
      onChange: () => {
        if (!frame)
          frame = requestAnimationFrame(() => {
            frame = 0;
            for (const l of onChange) l();
          });
      },
      onFileDone: (item) => {
        for (const l of onFileDone) l(item);
      },
    },
  );
  return { queue, onChange, onFileDone };
}

export function App() {
  const { path, query } = useLocation();
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [renewal, setRenewal] = useState<{ resolve(): void; reject(e: Error): void } | null>(null);
  const uploads = useMemo(createUploads, []);

  const adopt = (s: SessionInfo) => {
    apiSession.csrfToken = s.csrfToken;
    setSession(s);
  };

  useEffect(() => {
    // The sign-in page has no session to ask about (and a 401 would only be noise there).
    if (location.pathname === '/signin') setSession(null);
    else api.session().then(adopt, () => setSession(null));
    apiSession.renew = () => new Promise<void>((resolve, reject) => setRenewal({ resolve, reject }));
  }, []);

  if (path === '/signin') {
    const next = query.get('next');
    const target = next?.startsWith('/') && !next.startsWith('//') ? next : '/buckets';
    // A full load: the page behind the sign-in starts from a clean state.
    return <SignInPage onSignedIn={() => location.assign(target)} />;
  }
  if (session === undefined) return <div class="boot" aria-busy="true" />;
  if (session === null) {
    location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
    return null;
  }

  async function signOut() {
    if (uploads.queue.totals().active > 0 && !confirm('Uploads in progress will stop. Sign out?')) return;
    try {
      await api.signOut();
    } finally {
      location.assign('/signin');
    }
  }

  const folder = parseFolderPath(path);
  let screen;
  if (path === '/cluster') screen = session.isAdmin ? <ClusterPage /> : <p class="page-message">The cluster page is for administrators.</p>;
  else if (folder) screen = <FileBrowser key={folder.bucket} bucket={folder.bucket} prefix={folder.prefix} uploads={uploads} />;
  else screen = <BucketsPage />;

  const nav = (to: string, label: string, icon: Parameters<typeof Icon>[0]['name'], active: boolean) => (
    <a href={to} onClick={linkClick(to)} class={active ? 'nav-link active' : 'nav-link'} aria-current={active ? 'page' : undefined}>
      <Icon name={icon} />
      {label}
    </a>
  );

  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="/buckets" onClick={linkClick('/buckets')}>
          <img src="/assets/icon.svg" alt="" width={28} height={28} />
          <span>Cairn</span>
        </a>
        <nav class="nav" aria-label="Main">
          {nav('/buckets', 'Files', 'bucket', path !== '/cluster')}
          {session.isAdmin && nav('/cluster', 'Cluster', 'server', path === '/cluster')}
        </nav>
        <div class="account">
          <span class="account-name" title={`Access key ${session.accessKeyId} · session until ${formatDateTime(session.expiresAt)}`}>
            <Icon name="user" />
            <span class="account-text">{session.displayName}</span>
          </span>
          <button type="button" class="button ghost" onClick={signOut}>
            <Icon name="logout" />
            <span class="hide-narrow">Sign out</span>
          </button>
        </div>
      </header>
      <main id="main" class="content">
        {screen}
      </main>
      <UploadsPanel uploads={uploads} />
      {renewal && (
        <Modal
          title="Your session ended"
          onClose={() => {
            renewal.reject(new Error('Sign in to continue.'));
            setRenewal(null);
          }}
        >
          <p class="muted">Sign in again to go on where you were; nothing is lost.</p>
          <SignInForm
            accessKeyId={session.accessKeyId}
            onSignedIn={(s) => {
              adopt(s);
              renewal.resolve();
              setRenewal(null);
            }}
          />
        </Modal>
      )}
    </div>
  );
}
