// Reaching a cluster's admin API: any root will do (their state is merged), so try them in order
// with a short timeout and keep the first that answers for the rest of the reconcile.
import type { AdminClientOptions } from '../../../node-runtime/src/admin/client.ts';
import type { AdminClient, ClusterStatus } from '../../../node-runtime/src/admin/types.ts';
import type { StorageCluster } from '../api/storagecluster.ts';
import { rootUrls } from '../builders/names.ts';

export type AdminClientFactory = (opts: AdminClientOptions) => AdminClient;

export type AdminConnection = { client: AdminClient; status: ClusterStatus; url: string } | { client?: undefined; error: string };

export async function connectAdmin(factory: AdminClientFactory, c: StorageCluster, secret: string, timeoutMs = 3_000): Promise<AdminConnection> {
  const errors: string[] = [];
  for (const url of rootUrls(c)) {
    const client = factory({ url, secret, timeoutMs });
    try {
      return { client, status: await client.status(), url };
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  return { error: errors[errors.length - 1] ?? 'no roots' };
}

/** The admin error's code and status, whatever client produced it. */
export function adminErrorOf(e: unknown): { code: string; status: number; message: string } {
  const x = e as { code?: unknown; status?: unknown; message?: string };
  return { code: typeof x?.code === 'string' ? x.code : 'Unknown', status: typeof x?.status === 'number' ? x.status : 0, message: x?.message ?? String(e) };
}
