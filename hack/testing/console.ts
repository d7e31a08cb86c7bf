// Test harness for the web console: startConsole() in this process in front of a real `cairn
// server` child (startCairnProcess), signed in with key pairs the test chooses. The directory is
// built from those pairs (until the tenancy work lands, the S3 side knows keys, not users: a key
// restricted to some buckets stands in for a second user).
import { randomBytes } from 'node:crypto';
import { createAdminClient } from '../../node-runtime/src/admin/client.ts';
import type { ClusterStatus } from '../../node-runtime/src/admin/types.ts';
import { startConsole, type ConsoleDirectory, type ConsoleOptions, type RunningConsole } from '../../node-runtime/src/console/server.ts';
import type { CairnProcess } from './cairn.ts';

export interface ConsoleUser {
  userId: string;
  accessKeyId: string;
  secretAccessKey: string;
  displayName?: string;
  admin?: boolean;
}

export function userDirectory(users: ConsoleUser[]): ConsoleDirectory {
  // Looked up live: a test may add or remove users while the console runs.
  return {
    principal: (id) => {
      const u = users.find((x) => x.accessKeyId === id);
      return u && { userId: u.userId, secretAccessKey: u.secretAccessKey, superuser: !!u.admin };
    },
    displayName: (id) => users.find((u) => u.userId === id)?.displayName ?? id,
  };
}

/** A logger that keeps lines for assertions and prints nothing (set CONSOLE_TEST_LOG=1 to see them). */
export function memoryLog(): ConsoleOptions['log'] & { lines: { level: string; msg: string; obj: object }[] } {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const at = (level: string) => (obj: object, msg: string) => {
    lines.push({ level, msg, obj });
    if (process.env.CONSOLE_TEST_LOG) console.error(level, msg, JSON.stringify(obj));
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

export interface ConsoleOnCairn {
  console: RunningConsole;
  users: ConsoleUser[];
  log: ReturnType<typeof memoryLog>;
}

/** The console for `proc`: the root key pair is the admin user `admin`, plus `users`. */
export async function startConsoleOn(
  proc: CairnProcess,
  opts: {
    users?: ConsoleUser[];
    clusterSecret?: string;
    clusterStatus?: () => Promise<ClusterStatus>;
    assetsDir?: string;
    overrides?: Partial<ConsoleOptions>;
  } = {},
): Promise<ConsoleOnCairn> {
  const admin: ConsoleUser = { userId: 'admin', accessKeyId: proc.accessKey, secretAccessKey: proc.secretKey, displayName: 'Administrator', admin: true };
  const users = [admin, ...(opts.users ?? [])];
  const log = memoryLog();
  const clusterStatus =
    opts.clusterStatus ??
    (opts.clusterSecret
      ? () => createAdminClient({ url: proc.cluster, secret: opts.clusterSecret! }).status()
      : () => Promise.reject(new Error('no cluster secret given')));
  const running = await startConsole({
    host: proc.host,
    port: 0,
    s3Endpoint: proc.endpoint,
    region: 'us-east-1',
    directory: userDirectory(users),
    isAdmin: (id) => users.some((u) => u.userId === id && u.admin),
    clusterStatus,
    sessionKey: randomBytes(32),
    log,
    assetsDir: opts.assetsDir,
    ...opts.overrides,
  });
  return { console: running, users, log };
}
