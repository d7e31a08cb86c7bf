// What the day-2 end-to-end suites look at in a running StorageCluster, from outside: S3 through a
// ready pod with a credentials Secret, the roots' admin API with the cluster secret, the copies of
// every chunk on the node pods' volumes (the process kubelet's PVC directories), pod restarts.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { createAdminClient } from '../../../node-runtime/src/admin/client.ts';
import type { AdminClient } from '../../../node-runtime/src/admin/types.ts';
import { claimDir } from '../../../hack/kube/kubelet/volumes.ts';
import type { E2E } from './harness.ts';

export const decodeSecret = (s: any): Record<string, string> =>
  Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v as string, 'base64').toString()]));
const isReady = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

export async function pods(e: E2E, ns: string, selector: string): Promise<any[]> {
  return (await e.get(`/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(selector)}`)).items;
}

/** The file API through a ready pod's IP (the test process has no cluster DNS; pods do). */
export async function s3Client(e: E2E, ns: string, cluster: string, secretName: string): Promise<S3Client> {
  const creds = decodeSecret(await e.get(`/api/v1/namespaces/${ns}/secrets/${secretName}`));
  const ready = (await pods(e, ns, `storage.cairn.dev/cluster=${cluster}`)).find(isReady);
  if (!ready) throw new Error(`no ready pod of ${cluster} serves the file API`);
  return new S3Client({
    endpoint: `http://${ready.status.podIP}:9000`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: creds.AWS_ACCESS_KEY_ID!, secretAccessKey: creds.AWS_SECRET_ACCESS_KEY! },
  });
}

/** The roots' admin API (through a ready root pod) with the cluster secret. */
export async function adminClient(e: E2E, ns: string, cluster: string): Promise<AdminClient> {
  const secret = decodeSecret(await e.get(`/api/v1/namespaces/${ns}/secrets/${cluster}-cluster-secret`)).secret!;
  const root = (await pods(e, ns, `storage.cairn.dev/cluster=${cluster},storage.cairn.dev/role=root`)).find(isReady);
  if (!root) throw new Error(`no ready root of ${cluster}`);
  return createAdminClient({ url: `http://${root.status.podIP}:9100`, secret });
}

/**
 * Which node pods hold a copy of each chunk, read from their volumes: the process kubelet keeps
 * PVC `data-<cluster>-nodes-<i>` in a directory, the node's chunk store is `chunks/<2 hex>/<id>`.
 */
export function chunkHolders(e: E2E, ns: string, cluster: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const root = join(e.plane.dataDir, 'pvc', ns);
  const prefix = `data-${cluster}-nodes-`;
  for (const claim of existsSync(root) ? readdirSync(root) : []) {
    if (!claim.startsWith(prefix)) continue;
    const chunks = join(claimDir(e.plane.dataDir, ns, claim), 'chunks');
    for (const shard of existsSync(chunks) ? readdirSync(chunks) : []) {
      for (const id of readdirSync(join(chunks, shard))) {
        if (!/^[0-9a-f]{64}$/.test(id)) continue;
        out.set(id, [...(out.get(id) ?? []), claim.slice('data-'.length)]);
      }
    }
  }
  return out;
}

/** Restarts and uid of every pod of a selector, to show that something happened without downtime. */
export async function podIdentities(e: E2E, ns: string, selector: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of await pods(e, ns, selector)) out[p.metadata.name] = `${p.metadata.uid}/${p.status?.containerStatuses?.[0]?.restartCount ?? 0}`;
  return out;
}
