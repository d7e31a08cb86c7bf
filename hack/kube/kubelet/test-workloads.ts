// Small workloads for tests of the local control plane: a StatefulSet of tiny HTTP servers (Node
// one-liners, no Cairn code needed) that keep an id in their PVC, and helpers to wait on API state.
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, type V1Pod } from '@kubernetes/client-node';
import { loadKubeConfig } from '../controllers/client.ts';
import { waitFor } from '../../testing/net.ts';

export function kubeClients(kubeconfigPath: string) {
  const kc = loadKubeConfig(kubeconfigPath);
  return { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), discovery: kc.makeApiClient(DiscoveryV1Api) };
}

/** An HTTP server on $POD_IP:8080 answering `<HOSTNAME> <id>`; the id is created once in the
 *  directory given as argv[1] (the PVC, passed as the container path /data and rewritten). */
export const idServerScript = [
  "const fs=require('fs');const p=process.argv[1]+'/id';",
  "if(!fs.existsSync(p))fs.writeFileSync(p,require('crypto').randomUUID());",
  "require('http').createServer((q,r)=>r.end(process.env.HOSTNAME+' '+fs.readFileSync(p,'utf8'))).listen(8080,process.env.POD_IP);",
].join('');

export function idServerStatefulSet(name: string, replicas: number, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'server',
              image: 'node',
              command: ['node', '-e', idServerScript, '/data'],
              env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
          ],
        },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...extra,
    },
  };
}

export const isReady = (p: V1Pod | undefined) =>
  p?.status?.phase === 'Running' && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** Wait until the StatefulSet reports `ready` ready replicas and exactly `ready` pods exist. */
export async function waitForReadyReplicas(core: CoreV1Api, apps: AppsV1Api, ns: string, name: string, ready: number, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const s = await apps.readNamespacedStatefulSet({ namespace: ns, name });
      const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${name}` });
      return (
        s.status?.readyReplicas === ready && s.status?.observedGeneration === s.metadata?.generation && pods.items.length === ready && pods.items.every(isReady)
      );
    },
    { timeoutMs, intervalMs: 200, what: `${ns}/${name} to have ${ready} ready replicas` },
  );
}

/** GET http://<ip>:8080/ of an id server. */
export async function fetchId(ip: string): Promise<string> {
  const res = await fetch(`http://${ip}:8080/`, { signal: AbortSignal.timeout(2000) });
  return res.text();
}

/** A random pod range for a test's control plane, so parallel test files never share pod IPs. */
export function randomPodNetwork(): { podNetwork: string; subnetBase: number } {
  return { podNetwork: `127.${10 + Math.floor(Math.random() * 240)}.`, subnetBase: 1 + Math.floor(Math.random() * 200) };
}
