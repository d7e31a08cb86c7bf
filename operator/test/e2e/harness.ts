// End-to-end harness: the local control plane (API server emulator + controllers + process
// kubelet), or any API server named by CAIRN_E2E_KUBECONFIG or KUBECONFIG (envtest style, with the same process
// kubelet), the generated CRDs, and the operator running as Pods (`cairn operator`, the same
// command the chart's Deployment runs). Everything below talks to the API server over HTTP only.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startControlPlane, type ControlPlane } from '../../../hack/kube/controlplane.ts';
import { loopbackAddress, waitFor } from '../../../hack/testing/net.ts';
import { loadKubeConfig } from '../../src/kube/config.ts';
import { KubeApiError, KubeRest, PATCH_APPLY } from '../../src/kube/rest.ts';
import { operatorPod } from '../../../hack/local/manifests.ts';

const repo = new URL('../../..', import.meta.url).pathname;
export { OPERATOR_NS } from '../../../hack/local/manifests.ts';
import { OPERATOR_NS } from '../../../hack/local/manifests.ts';

export interface E2E {
  plane: ControlPlane;
  rest: KubeRest;
  kubeconfig: string;
  /** Server-side apply of any object (field manager e2e), like `kubectl apply --server-side`. */
  apply(obj: any): Promise<any>;
  get(path: string): Promise<any | undefined>;
  startOperator(name: string): Promise<void>;
  /** The last bytes of every log of a pod (all containers and restarts), for failure messages. */
  podLogs(namespace: string, pod: string, bytes?: number): string;
  stop(): Promise<void>;
}

export function pathOf(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }, plural?: string): string {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const p = plural ?? obj.kind.toLowerCase() + (obj.kind.endsWith('s') ? 'es' : 's');
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  return obj.metadata.namespace ? `${base}/namespaces/${obj.metadata.namespace}/${p}/${obj.metadata.name}` : `${base}/${p}/${obj.metadata.name}`;
}

export function yamlObjects(file: string): any[] {
  return parseAllDocuments(readFileSync(join(repo, file), 'utf8'))
    .map((d) => d.toJS())
    .filter(Boolean);
}

export async function startE2E(opts: { nodes?: number; kubeconfig?: string } = {}): Promise<E2E> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-e2e-'));
  const external = opts.kubeconfig ?? process.env.CAIRN_E2E_KUBECONFIG ?? process.env.KUBECONFIG;
  const plane = await startControlPlane({
    dataDir,
    nodes: opts.nodes ?? 1,
    persist: false,
    kubeconfig: external,
    // As on a real server: no Endpoints hold the loopback pod IPs; the kubelet resolves Services itself.
    refuseLoopbackEndpoints: true,
    host: external ? undefined : loopbackAddress(),
    podNetwork: `127.${10 + Math.floor(Math.random() * 240)}.`,
    kubelet: { maxProbePeriodMs: 1000, crashLoopBackoff: { initialMs: 500, maxMs: 4000 } },
  });
  const kubeconfig = plane.kubeconfigPath;
  const rest = new KubeRest(loadKubeConfig(kubeconfig));
  const get = (path: string) =>
    rest.request<any>('GET', path).catch((e) => {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      throw e;
    });
  // Namespaces this run made: on a server that outlives the run, they (and the pods, Leases and
  // Secrets in them) are deleted at stop.
  const made = new Set<string>();
  const apply = async (obj: any) => {
    if (obj.kind === 'Namespace' && !made.has(obj.metadata.name)) {
      // One left terminating by an earlier run must be gone before it can be made again.
      await waitFor(async () => (await get(`/api/v1/namespaces/${obj.metadata.name}`))?.metadata?.deletionTimestamp === undefined, {
        what: `namespace ${obj.metadata.name} from an earlier run gone`,
        timeoutMs: 120_000,
      });
      made.add(obj.metadata.name);
    }
    return rest.request('PATCH', pathOf(obj), { contentType: PATCH_APPLY, query: { fieldManager: 'e2e', force: true }, body: obj });
  };

  for (const file of ['crds/storagecluster.yaml', 'crds/bucket.yaml']) for (const crd of yamlObjects(file)) await apply(crd);
  await waitFor(() => get('/apis/storage.cairn.dev/v1alpha1/storageclusters'), { what: 'CRDs served', timeoutMs: 10_000 });
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NS } });
  // A Lease left by an earlier run that was killed names a holder that will never renew it: the
  // new operators would wait it out, and a test that kills "the leader" would read a dead one.
  await rest.request('DELETE', `/apis/coordination.k8s.io/v1/namespaces/${OPERATOR_NS}/leases/cairn-operator`).catch((e) => {
    if (!(e instanceof KubeApiError && e.status === 404)) throw e;
  });

  return {
    plane,
    rest,
    kubeconfig,
    apply,
    get,
    async startOperator(name: string) {
      await apply(operatorPod(name, kubeconfig, { logLevel: process.env.CAIRN_E2E_LOG_LEVEL ?? 'info', readinessPeriodSeconds: 1 }));
    },
    podLogs(namespace: string, pod: string, bytes = 2000) {
      const root = join(plane.dataDir, 'logs');
      const out: string[] = [];
      const walk = (dir: string) => {
        for (const f of readdirSync(dir, { withFileTypes: true })) {
          const p = join(dir, f.name);
          if (f.isDirectory()) walk(p);
          else out.push(`--- ${p.slice(root.length + 1)}\n${readFileSync(p, 'utf8').slice(-bytes)}`);
        }
      };
      for (const d of existsSync(root) ? readdirSync(root) : []) if (d.startsWith(`${namespace}_${pod}_`)) walk(join(root, d));
      return out.join('\n');
    },
    async stop() {
      if (external) {
        // While the kubelets still run, so that they end the pods and confirm their deletion.
        for (const ns of made)
          await rest.request('DELETE', `/api/v1/namespaces/${ns}`).catch((e) => {
            if (!(e instanceof KubeApiError && e.status === 404)) throw e;
          });
        await waitFor(
          async () => {
            for (const ns of made) if (await get(`/api/v1/namespaces/${ns}`)) return false;
            return true;
          },
          { what: 'namespaces deleted', timeoutMs: 120_000 },
        ).catch((e) => console.error(`e2e cleanup: ${(e as Error).message}`));
      }
      await plane.stop(); // on an external server this also removes the kubelets' Nodes
      await rest.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Wait for a StorageCluster condition/phase with a useful message on timeout. */
export async function waitForCluster(e: E2E, ns: string, name: string, check: (sc: any) => boolean, what: string, timeoutMs = 120_000): Promise<any> {
  let last: any;
  try {
    return await waitFor(
      async () => {
        last = await e.get(`/apis/storage.cairn.dev/v1alpha1/namespaces/${ns}/storageclusters/${name}`);
        return last && check(last) && last;
      },
      { what, timeoutMs, intervalMs: 250 },
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}; last status: ${JSON.stringify(last?.status?.conditions?.map((c: any) => `${c.type}=${c.status} ${c.reason}: ${c.message}`))} phase=${last?.status?.phase}\noperator logs:\n${e.podLogs(OPERATOR_NS, 'cairn-operator-0')}`,
    );
  }
}
