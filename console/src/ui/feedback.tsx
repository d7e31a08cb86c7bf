// Errors, progress and empty states, the same everywhere.
import type { ComponentChildren } from 'preact';
import { Icon } from './icons.tsx';

export function ErrorBanner({ message, onRetry, onDismiss }: { message: string; onRetry?(): void; onDismiss?(): void }) {
  return (
    <div class="banner error" role="alert">
      <Icon name="alert" />
      <span class="banner-text">{message}</span>
      {onRetry && (
        <button type="button" class="button small" onClick={onRetry}>
          <Icon name="retry" size={16} />
          Retry
        </button>
      )}
      {onDismiss && (
        <button type="button" class="icon-button" onClick={onDismiss} aria-label="Dismiss">
          <Icon name="close" size={16} />
        </button>
      )}
    </div>
  );
}

export function ProgressBar({ value, max, label, tone }: { value: number; max: number; label: string; tone?: 'ok' | 'warn' | 'danger' }) {
  const pct = max > 0 ? Math.min(100, (100 * value) / max) : 0;
  return (
    <div class={`progress ${tone ?? ''}`} role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)}>
      <div class="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span class="spinner" role="status" aria-label={label} />;
}

export function EmptyState({ icon, title, children }: { icon: Parameters<typeof Icon>[0]['name']; title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <Icon name={icon} size={40} />
      <p class="empty-title">{title}</p>
      {children && <div class="empty-text">{children}</div>}
    </div>
  );
}
