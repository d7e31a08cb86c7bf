// Sign-in with an access key and its secret (also the form of the "session ended" dialog), or
// through the cluster's OpenID Connect issuer when it has one: a plain link, the server does the rest.
import { useEffect, useState } from 'preact/hooks';
import type { SessionInfo, SignInOptions } from '../../../node-runtime/src/console/api.ts';
import { ApiError, api, errorText } from '../api.ts';
import { Icon } from './icons.tsx';

export function SignInForm({ onSignedIn, accessKeyId: initialKey = '' }: { onSignedIn(s: SessionInfo): void; accessKeyId?: string }) {
  const [accessKeyId, setKey] = useState(initialKey);
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [waitUntil, setWaitUntil] = useState(0);
  const [now, setNow] = useState(Date.now());

  // Count down a rate limit so the user sees when to try again.
  useEffect(() => {
    if (waitUntil <= Date.now()) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [waitUntil]);
  const waitSeconds = Math.max(0, Math.ceil((waitUntil - now) / 1000));

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onSignedIn(await api.signIn(accessKeyId.trim(), secret));
    } catch (err) {
      if (err instanceof ApiError && err.status === 429 && err.retryAfterSeconds) {
        setWaitUntil(Date.now() + err.retryAfterSeconds * 1000);
        setNow(Date.now());
      }
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <form class="sign-in-form" onSubmit={submit} noValidate>
      <label class="field">
        <span>Access key ID</span>
        <input
          name="accessKeyId"
          autocomplete="username"
          spellcheck={false}
          autocapitalize="off"
          required
          value={accessKeyId}
          onInput={(e) => setKey(e.currentTarget.value)}
          autofocus={!initialKey}
        />
      </label>
      <label class="field">
        <span>Secret access key</span>
        <input
          name="secretAccessKey"
          type="password"
          autocomplete="current-password"
          required
          value={secret}
          onInput={(e) => setSecret(e.currentTarget.value)}
          autofocus={!!initialKey}
        />
      </label>
      <p class="form-error" role="alert" aria-live="assertive">
        {error && (
          <>
            <Icon name="alert" size={16} /> {waitSeconds > 0 ? `Too many attempts: try again in ${waitSeconds} s.` : error}
          </>
        )}
      </p>
      <button type="submit" class="button primary wide" disabled={busy || !accessKeyId || !secret || waitSeconds > 0}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

export function SignInPage({ onSignedIn }: { onSignedIn(s: SessionInfo): void }) {
  const [options, setOptions] = useState<SignInOptions>({});
  useEffect(() => {
    api.signInOptions().then(setOptions, () => {}); // without them, the key form alone
  }, []);
  const params = new URLSearchParams(location.search);
  const oidcError = params.get('oidcError');
  const next = params.get('next') ?? '/buckets';
  return (
    <main class="sign-in-page">
      <div class="sign-in-card">
        <div class="brand large">
          <img src="/assets/icon.svg" alt="" width={40} height={40} />
          <span>Cairn</span>
        </div>
        <h1>Sign in</h1>
        <p class="muted">Use an access key of your Cairn user. The console acts only with that key's rights.</p>
        {oidcError && (
          <p class="form-error" role="alert">
            <Icon name="alert" size={16} /> {oidcError}
          </p>
        )}
        {options.oidc && (
          <>
            <a class="button wide" href={`/oidc/start?${new URLSearchParams({ next })}`}>
              {options.oidc.label}
            </a>
            <p class="muted small sign-in-or">or with an access key</p>
          </>
        )}
        <SignInForm onSignedIn={onSignedIn} />
      </div>
    </main>
  );
}
