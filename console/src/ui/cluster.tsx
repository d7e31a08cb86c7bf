// The cluster at a glance (administrators): members with state, zone, usage and heartbeat;
// capacity; redundancy and repair progress with its ETA; recent events (members' changes of state);
// buckets with usage against quota.
// Polled every two seconds while the tab is visible; a failed poll keeps the last picture and
// says so, with a retry.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { BucketStatus, ClusterStatus, MemberStatus } from '../../../node-runtime/src/console/api.ts';
import { api, errorText } from '../api.ts';
import { formatBytes, formatCount, formatDuration, formatPercent, formatRate } from '../format.ts';
import { ErrorBanner, ProgressBar, Spinner } from './feedback.tsx';

const POLL_MS = 2000;

function usageTone(used: number, capacity: number): 'ok' | 'warn' | 'danger' {
  const f = capacity > 0 ? used / capacity : 0;
  return f > 0.9 ? 'danger' : f > 0.75 ? 'warn' : 'ok';
}

function Card({
  title,
  value,
  unit,
  detail,
  children,
  tone,
}: {
  title: string;
  value: string;
  unit?: string;
  detail?: string;
  children?: ComponentChildren;
  tone?: string;
}) {
  return (
    <div class={`card ${tone ?? ''}`}>
      <h2 class="card-title">{title}</h2>
      <p class="card-value">
        {value}
        {unit && <span class="card-unit"> {unit}</span>}
      </p>
      {children}
      {detail && <p class="card-detail">{detail}</p>}
    </div>
  );
}

function MemberRow({ m }: { m: MemberStatus }) {
  return (
    <tr data-member={m.name}>
      <th scope="row">
        <span class="member-name">{m.name}</span>
        <span class="muted small"> {m.roles.join(', ')}</span>
      </th>
      <td>
        <span class={`badge state-${m.state}`}>{m.state}</span>
      </td>
      <td>{m.zone}</td>
      <td class="usage-cell">
        {m.capacityBytes > 0 ? (
          <>
            <ProgressBar value={m.usedBytes} max={m.capacityBytes} label={`Usage of ${m.name}`} tone={usageTone(m.usedBytes, m.capacityBytes)} />
            <span class="small">
              {formatBytes(m.usedBytes)} of {formatBytes(m.capacityBytes)}
            </span>
          </>
        ) : (
          <span class="muted small">no data role</span>
        )}
      </td>
      <td class="num">{formatCount(m.chunks)}</td>
      <td class="num">{m.heartbeatAgeMs < 1000 ? 'now' : `${formatDuration(m.heartbeatAgeMs / 1000)} ago`}</td>
      <td class="num">{m.repair.underReplicatedChunks ? formatCount(m.repair.underReplicatedChunks) : '–'}</td>
    </tr>
  );
}

function BucketRow({ b }: { b: BucketStatus }) {
  return (
    <tr data-bucket={b.name}>
      <th scope="row">{b.name}</th>
      <td class="num">{b.replicas}</td>
      <td class="num">
        {formatCount(b.objects)}
        {b.quotaObjects ? ` / ${formatCount(b.quotaObjects)}` : ''}
      </td>
      <td class="usage-cell">
        {b.quotaBytes ? <ProgressBar value={b.bytes} max={b.quotaBytes} label={`Quota of ${b.name}`} tone={usageTone(b.bytes, b.quotaBytes)} /> : null}
        <span class="small">
          {formatBytes(b.bytes)}
          {b.quotaBytes ? ` of ${formatBytes(b.quotaBytes)} quota` : ''}
        </span>
      </td>
    </tr>
  );
}

const STATE_WORDS: Record<string, string> = {
  active: 'is active',
  joining: 'is joining',
  down: 'went down',
  draining: 'began draining',
  drained: 'is drained',
};

/**
 * Recent events: each member's last change of state (when the roots recorded it; the cluster map
 * keeps it, so every node shows the same list and it survives restarts), newest first.
 */
function RecentEvents({ members }: { members: MemberStatus[] }) {
  const events = members
    .filter((m) => m.stateChangedAt)
    .sort((a, b) => (a.stateChangedAt! < b.stateChangedAt! ? 1 : -1))
    .slice(0, 10);
  if (!events.length) return null;
  return (
    <>
      <h2 class="section-title">Recent events</h2>
      <ol class="events" aria-label="Recent events">
        {events.map((m) => {
          const at = new Date(m.stateChangedAt!);
          return (
            <li key={m.id} data-event={m.name} class={`event state-${m.state}`}>
              <span class="member-name">{m.name}</span> {STATE_WORDS[m.state] ?? m.state}
              <time class="muted small" dateTime={m.stateChangedAt} title={at.toLocaleString()}>
                {' '}
                · {formatDuration(Math.max(0, Date.now() - at.getTime()) / 1000)} ago
              </time>
            </li>
          );
        })}
      </ol>
    </>
  );
}

export function ClusterPage() {
  const [status, setStatus] = useState<ClusterStatus | undefined>();
  const [error, setError] = useState('');
  const [updatedAt, setUpdatedAt] = useState(0);
  const [, setNow] = useState(0);
  const timer = useRef(0);

  function poll() {
    clearTimeout(timer.current);
    const ctrl = new AbortController();
    api
      .cluster(ctrl.signal)
      .then(
        (s) => {
          setStatus(s);
          setError('');
          setUpdatedAt(Date.now());
        },
        (e) => setError(errorText(e)),
      )
      .finally(() => {
        timer.current = window.setTimeout(() => {
          if (!document.hidden) poll();
          else document.addEventListener('visibilitychange', poll, { once: true });
        }, POLL_MS);
      });
    return ctrl;
  }

  useEffect(() => {
    const ctrl = poll();
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      ctrl.abort();
      clearTimeout(timer.current);
      clearInterval(tick);
      document.removeEventListener('visibilitychange', poll);
    };
  }, []);

  if (!status) {
    return (
      <section class="page">
        <h1>Cluster</h1>
        {error ? (
          <ErrorBanner message={error} onRetry={poll} />
        ) : (
          <div class="centered">
            <Spinner />
          </div>
        )}
      </section>
    );
  }
  const r = status.repair;
  const healthy = r.underReplicatedChunks === 0 && r.misplacedChunks === 0;
  const repairTotal = r.bytesMoved + r.bytesRemaining;
  const down = status.counts.down ?? 0;
  return (
    <section class="page cluster" aria-labelledby="cluster-title">
      <div class="page-head">
        <h1 id="cluster-title">Cluster</h1>
        <p class="muted small" aria-live="off">
          Updated {formatDuration((Date.now() - updatedAt) / 1000)} ago · {status.region}
        </p>
      </div>
      {error && <ErrorBanner message={`Showing the last known state: ${error}`} onRetry={poll} />}
      <div class="cards">
        <Card
          title="Members"
          value={String(status.counts.active ?? 0)}
          unit="active"
          tone={down ? 'danger' : 'ok'}
          detail={`${status.members.length} in all${down ? ` · ${down} down` : ''}${status.counts.draining ? ` · ${status.counts.draining} draining` : ''}`}
        />
        <Card
          title="Capacity"
          value={formatPercent(status.usedBytes, status.capacityBytes)}
          detail={`${formatBytes(status.usedBytes)} of ${formatBytes(status.capacityBytes)}`}
        >
          <ProgressBar
            value={status.usedBytes}
            max={status.capacityBytes}
            label="Cluster capacity used"
            tone={usageTone(status.usedBytes, status.capacityBytes)}
          />
        </Card>
        <Card
          title="Redundancy"
          value={healthy ? 'Full' : formatCount(r.underReplicatedChunks)}
          unit={healthy ? undefined : 'under-replicated'}
          tone={healthy ? 'ok' : 'warn'}
          detail={`${formatCount(r.misplacedChunks)} misplaced chunks · writes ${status.writeQuorumAvailable ? 'available' : 'blocked'}`}
        />
        <Card
          title="Repair"
          value={r.bytesRemaining > 0 ? formatBytes(r.bytesRemaining) : 'Idle'}
          unit={r.bytesRemaining > 0 ? 'left' : undefined}
          detail={
            r.bytesRemaining > 0
              ? `${formatRate(r.rateBytesPerSec)} · ETA ${r.etaSeconds === null ? 'unknown' : formatDuration(r.etaSeconds)}`
              : `${formatBytes(r.bytesMoved)} moved`
          }
        >
          <ProgressBar value={r.bytesMoved} max={repairTotal || 1} label="Repair progress" />
        </Card>
      </div>

      <h2 class="section-title">Members</h2>
      <div class="table-wrap">
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col">Zone</th>
              <th scope="col">Usage</th>
              <th scope="col" class="num">
                Chunks
              </th>
              <th scope="col" class="num">
                Heartbeat
              </th>
              <th scope="col" class="num">
                Under-replicated
              </th>
            </tr>
          </thead>
          <tbody>
            {status.members.map((m) => (
              <MemberRow key={m.id} m={m} />
            ))}
          </tbody>
        </table>
      </div>

      <RecentEvents members={status.members} />

      <h2 class="section-title">Buckets</h2>
      <div class="table-wrap">
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" class="num">
                Replicas
              </th>
              <th scope="col" class="num">
                Objects
              </th>
              <th scope="col">Usage</th>
            </tr>
          </thead>
          <tbody>
            {status.buckets.map((b) => (
              <BucketRow key={b.name} b={b} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
