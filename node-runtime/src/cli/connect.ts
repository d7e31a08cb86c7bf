// Which cluster a `cairn` admin command talks to: --admin/--secret, else env CAIRN_ADMIN_URL /
// CAIRN_CLUSTER_SECRET, else the cluster `npm start` runs ($CAIRN_HOME/local/cluster.json, CAIRN_HOME
// defaulting to ./.cairn). One place, so every command finds the same cluster and says the same
// thing when there is none.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createAdminClient, AdminApiError } from '../admin/client.ts';
import type { AdminClient } from '../admin/types.ts';

export interface ConnOpts {
  admin?: string;
  secret?: string;
}

export const SECRET_ENV = 'CAIRN_CLUSTER_SECRET';
export const ADMIN_URL_ENV = 'CAIRN_ADMIN_URL';

/** $CAIRN_HOME, or ./.cairn: where `npm start` keeps its state. */
export const cairnHome = (env: NodeJS.ProcessEnv = process.env): string => resolve(env.CAIRN_HOME ?? join(process.cwd(), '.cairn'));

interface LocalCluster {
  file: string;
  admin?: string;
  secret?: string;
  found: boolean;
}

/** The `npm start` cluster's admin URL and secret, if it wrote its cluster.json. */
export function localCluster(env: NodeJS.ProcessEnv = process.env): LocalCluster {
  const file = join(cairnHome(env), 'local', 'cluster.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { file, found: false };
  }
  const info = JSON.parse(text) as { admin?: string; clusterSecretFile?: string };
  let secret: string | undefined;
  try {
    secret = info.clusterSecretFile ? readFileSync(info.clusterSecretFile, 'utf8').trim() : undefined;
  } catch {
    /* reported below as missing */
  }
  return { file, admin: info.admin, secret, found: true };
}

/** The admin client for a command's options, or one clear error saying what to give. */
export function adminClient(o: ConnOpts, env: NodeJS.ProcessEnv = process.env): AdminClient {
  const local = localCluster(env);
  const url = o.admin ?? env[ADMIN_URL_ENV] ?? local.admin;
  if (!url) {
    throw new AdminApiError(
      'NoCluster',
      0,
      `no cluster found at CAIRN_HOME=${cairnHome(env)} (no ${local.file}): start one with \`npm start\`, or name one with --admin URL --secret S (env ${ADMIN_URL_ENV}, ${SECRET_ENV})`,
    );
  }
  const secret = o.secret ?? env[SECRET_ENV] ?? local.secret;
  if (!secret) throw new AdminApiError('MissingSecret', 0, `the cluster secret is required for ${url}: --secret S or env ${SECRET_ENV}`);
  const client = createAdminClient({ url, secret });
  if (o.admin ?? env[ADMIN_URL_ENV]) return client;
  // The local cluster's cluster.json outlives it: say which cluster did not answer and how to start it.
  return new Proxy(client, {
    get: (target, key) => {
      const v = Reflect.get(target, key);
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        try {
          return await v.apply(target, args);
        } catch (e) {
          if (e instanceof AdminApiError && e.code === 'Unreachable')
            throw new AdminApiError(
              'Unreachable',
              0,
              `${e.message}; is the \`npm start\` cluster of CAIRN_HOME=${cairnHome(env)} running? (\`npm start\` starts it again with its data)`,
            );
          throw e;
        }
      };
    },
  });
}
