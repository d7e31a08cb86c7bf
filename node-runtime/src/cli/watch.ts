// `cairn watch BUCKET [--prefix P]`: print the bucket's change feed, one line per change
// (`time event key size` for people; with --json the S3 event JSON and its `cursor`), until interrupted. It signs with
// the bucket's keys (a presigned URL, renewed on every connection) and reconnects by itself after a
// dropped connection or a restarted node, resuming from the last cursor: nothing is missed or
// printed twice within the retention window; past it the server says `reset` and so does this.
import type { Command } from 'commander';
import { sseMessages } from '../events/sse.ts';
import type { EventMessage } from '../events/record.ts';
import { presignUrl } from '../s3/presign.ts';

interface WatchOpts {
  endpoint?: string;
  accessKey?: string;
  secretKey?: string;
  region: string;
  prefix?: string;
  cursor?: string;
  json?: boolean;
}

const RETRY_MS = { min: 250, max: 5_000 };

export function formatChange(m: EventMessage): string {
  const r = m.Records[0];
  return `${r.eventTime} ${r.eventName.replace(/^s3:/, '')} ${decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '))}${r.s3.object.size !== undefined ? ` ${r.s3.object.size}` : ''}`;
}

export async function watchBucket(bucket: string, o: WatchOpts, print: (line: string) => void, signal: AbortSignal): Promise<void> {
  const endpoint = o.endpoint ?? process.env.S3_ENDPOINT ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:9000';
  const accessKeyId = o.accessKey ?? process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = o.secretKey ?? process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error('credentials are required: --access-key/--secret-key or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY');
  let cursor = o.cursor;
  let backoff = RETRY_MS.min;
  while (!signal.aborted) {
    try {
      const url = presignUrl({
        endpoint,
        bucket,
        query: [['changes', ''], ...(o.prefix ? [['prefix', o.prefix] as [string, string]] : [])],
        accessKeyId,
        secretAccessKey,
        region: o.region,
      });
      const res = await fetch(url, { headers: { accept: 'text/event-stream', ...(cursor ? { 'last-event-id': cursor } : {}) }, signal });
      if (res.status !== 200 || !res.body) {
        const text = await res.text();
        const err = Object.assign(new Error(`HTTP ${res.status}: ${/<Message>([^<]*)/.exec(text)?.[1] ?? text.slice(0, 200)}`), { status: res.status });
        throw err;
      }
      for await (const m of sseMessages(res.body)) {
        backoff = RETRY_MS.min;
        if (m.id !== undefined) cursor = m.id;
        if (m.event === 'reset')
          print(
            o.json
              ? JSON.stringify({ reset: JSON.parse(m.data ?? '{}') })
              : `# reset (${(JSON.parse(m.data ?? '{}') as { reason?: string }).reason}): changes before this point may be missing; re-list the bucket`,
          );
        else if (m.event === undefined && m.data !== undefined)
          print(o.json ? JSON.stringify({ cursor: m.id, ...(JSON.parse(m.data) as EventMessage) }) : formatChange(JSON.parse(m.data) as EventMessage));
      }
    } catch (e) {
      if (signal.aborted) return;
      const status = (e as { status?: number }).status;
      if (status !== undefined && status >= 400 && status < 500) throw e; // refused: retrying will not help
    }
    await new Promise<void>((r) => {
      const t = setTimeout(r, backoff);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          r();
        },
        { once: true },
      );
    });
    backoff = Math.min(RETRY_MS.max, backoff * 2);
  }
}

export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .argument('<bucket>', 'the bucket to follow')
    .description("print a bucket's changes as they happen (the change feed), resuming after a dropped connection")
    .option('--prefix <prefix>', 'only keys that start with this')
    .option('--endpoint <url>', 'file API (S3) URL (env S3_ENDPOINT; default http://127.0.0.1:9000)')
    .option('--access-key <id>', 'access key id (env AWS_ACCESS_KEY_ID)')
    .option('--secret-key <secret>', 'secret access key (env AWS_SECRET_ACCESS_KEY)')
    .option('--region <region>', 'region to sign for (env AWS_REGION)', process.env.AWS_REGION ?? 'us-east-1')
    .option('--cursor <cursor>', 'resume after this cursor (the `cursor` of a change --json printed)')
    .option('--json', 'print each change as the S3 event JSON')
    .action(async (bucket: string, o: WatchOpts) => {
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      try {
        await watchBucket(bucket, o, (line) => process.stdout.write(line + '\n'), stop.signal);
      } catch (e) {
        process.stderr.write(`cairn watch: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
