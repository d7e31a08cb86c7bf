// `npm start` (default): Cairn the Kubernetes way, all on this machine. The local control plane
// (hack/kube: API server emulator on a loopback address, controllers, a process kubelet whose pods
// get their own 127.x addresses) runs in this process; the CRDs are applied, the operator runs as
// two Pods (leader election), and examples/storagecluster.yaml + examples/bucket.yaml are applied
// (server-side apply: idempotent on restart). Once the StorageCluster and the Bucket are Ready and
// every storage pod answers, cluster.json is written and the way in is printed. API objects persist
// in $CAIRN_HOME/local/kube/apiserver.json and PVC directories under .../kube/pvc, so a restart
// brings the same cluster back with its data. SIGINT/SIGTERM stop the pods and the servers.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../kube/controlplane.ts';
import { waitFor } from '../testing/net.ts';
import { loadKubeConfig } from '../../operator/src/kube/config.ts';
import { isInvalid, isNotFound, KubeRest, PATCH_APPLY } from '../../operator/src/kube/rest.ts';
import { localDir, writeClusterInfo, type ClusterInfo, type LocalProcess } from './home.ts';
import {
  clusterSelector,
  decodeSecret,
  exampleObjects,
  FIELD_MANAGER,
  OPERATOR_NS,
  operatorPod,
  pathOf,
  podPid,
  podProcesses,
  podReady,
  yamlObjects,
  type KObject,
  type SizeFlags,
} from './manifests.ts';

export interface KubeOptions extends SizeFlags {
  /** API server address (loopback) and port; port 0 = any free port. A busy port falls back to a free one. */
  kubeHost: string;
  kubePort: number;
  /** Loopback prefix for pod IPs, e.g. '127.0.' (pods get 127.0.101.x). */
  podNetwork: string;
  /** How long to wait for Ready before giving up. */
  timeoutMs: number;
}

const say = (msg: string) => console.log(`[cairn] ${msg}`);

export async function runKubernetes(o: KubeOptions): Promise<void> {
  const dir = localDir();
  const kubeDir = join(dir, 'kube');
  const kubeconfigPath = join(dir, 'kubeconfig');
  const { objects, cluster, bucket } = exampleObjects(o); // bad YAML fails before anything starts
  const ns = cluster.metadata.namespace ?? 'default';
  const scPath = pathOf(cluster);

  // Signals first: a Ctrl-C while starting up must still stop what was started.
  let plane: ControlPlane | undefined;
  let stopping = false;
  let starting: Promise<ControlPlane> | undefined;
  const shutdown = async (signal: string) => {
    if (stopping) {
      console.error('forced exit');
      process.exit(1);
    } // the kubelet's exit hook still SIGKILLs every pod
    stopping = true;
    say(`${signal}: stopping the operator, the storage pods and the control plane...`);
    const p = plane ?? (await starting?.catch(() => undefined));
    await p?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const start = (port: number) =>
    startControlPlane({
      dataDir: kubeDir,
      kubeconfigPath,
      host: o.kubeHost,
      port,
      nodes: 1,
      podNetwork: o.podNetwork,
      kubelet: { maxProbePeriodMs: 1000, crashLoopBackoff: { initialMs: 1000, maxMs: 30_000 } },
    });
  starting = start(o.kubePort).catch((e) => {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || o.kubePort === 0) throw e;
    say(`port ${o.kubePort} is in use; the API server takes a free port instead`);
    return start(0);
  });
  plane = await starting;
  if (stopping) return;
  // kubectl with this kubeconfig looks at the example's namespace by default.
  plane.apiServer!.writeKubeconfig(kubeconfigPath, { namespace: ns });
  say(`API server ${plane.apiServer!.url}; kubeconfig ${kubeconfigPath}`);

  const rest = new KubeRest(loadKubeConfig(kubeconfigPath));
  const get = (path: string) =>
    rest.request<any>('GET', path).catch((e) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
  const apply = (obj: KObject) =>
    rest.request('PATCH', pathOf(obj), { contentType: PATCH_APPLY, query: { fieldManager: FIELD_MANAGER, force: true }, body: obj });

  for (const file of ['crds/storagecluster.yaml', 'crds/bucket.yaml']) for (const crd of yamlObjects(file)) await apply(crd);
  await waitFor(() => get('/apis/storage.cairn.dev/v1alpha1/storageclusters'), { what: 'the CRDs to be served', timeoutMs: 30_000 });
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NS } });
  for (const name of ['cairn-operator-0', 'cairn-operator-1']) {
    const pod = operatorPod(name, kubeconfigPath);
    // A Pod's spec is immutable: one kept from an older run with another spec is replaced.
    await apply(pod).catch(async (e) => {
      if (!isInvalid(e)) throw e;
      await rest.request('DELETE', pathOf(pod), { query: { gracePeriodSeconds: 0 } }).catch((x) => {
        if (!isNotFound(x)) throw x;
      });
      await waitFor(async () => !(await get(pathOf(pod))), { what: `old pod ${name} to go`, timeoutMs: 30_000 });
      await apply(pod);
    });
  }
  say('operator pods started (leader election in cairn-system)');
  for (const obj of objects) {
    await apply(obj).catch((e) => {
      throw new Error(`applying ${obj.kind} ${obj.metadata.name}: ${(e as Error).message}`);
    });
  }
  say(`applied StorageCluster ${ns}/${cluster.metadata.name} and Bucket ${ns}/${bucket.metadata.name}; waiting for Ready...`);

  // Ready means: the StorageCluster's Ready condition for the current generation, the Bucket Ready,
  // and every storage pod alive *now* (after a restart the stored status still says Ready).
  const expected = (cluster.spec.roots?.replicas ?? 3) + (cluster.spec.nodes?.replicas ?? 3);
  let lastNote = '';
  const note = (s: string) => {
    if (s !== lastNote && !stopping) say(s);
    lastNote = s;
  };
  const deadline = Date.now() + o.timeoutMs;
  let pods: any[] = [];
  let bk: any;
  for (;;) {
    if (stopping) return;
    const sc = await get(scPath).catch(() => undefined);
    bk = await get(pathOf(bucket)).catch(() => undefined);
    pods =
      (await get(`/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(clusterSelector(cluster.metadata.name))}`).catch(() => undefined))?.items ??
      [];
    const ready = sc?.status?.conditions?.find((c: any) => c.type === 'Ready');
    const fresh = sc?.status?.observedGeneration === sc?.metadata.generation;
    const live = pods.filter((p) => !p.metadata.deletionTimestamp && podReady(p) && alive(podPid(p)));
    // After a restart the stored status is the last run's until the operator writes a new one.
    const stale = live.length < expected && sc?.status?.phase === 'Ready' ? ' as last recorded' : '';
    note(
      `cluster ${sc?.status?.phase ?? 'Pending'}${stale} (${ready?.reason ?? 'no status yet'}), ${live.length}/${expected} storage pods up, bucket ${bk?.status?.phase ?? 'Pending'}`,
    );
    if (fresh && ready?.status === 'True' && bk?.status?.phase === 'Ready' && live.length === expected && (await answering(podProcesses(live, kubeDir)))) break;
    if (Date.now() > deadline) {
      const msg = `the cluster did not become Ready in ${Math.round(o.timeoutMs / 1000)} s: ${ready?.message ?? 'no status'}; bucket: ${bk?.status?.conditions?.[0]?.message ?? 'no status'}. Pod logs: ${join(kubeDir, 'logs')}`;
      console.error(msg);
      stopping = true;
      await plane.stop();
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 500));
  }

  const adminName = `${cluster.metadata.name}-admin`;
  const root = decodeSecret(await get(`/api/v1/namespaces/${ns}/secrets/${adminName}`));
  const creds = decodeSecret(await get(`/api/v1/namespaces/${ns}/secrets/${bucket.spec.credentials?.secretName ?? `${bucket.metadata.name}-credentials`}`));
  const internal = decodeSecret(await get(`/api/v1/namespaces/${ns}/secrets/${cluster.metadata.name}-cluster-secret`));
  // `cairn status` reads the cluster secret from a file named in cluster.json.
  const clusterSecretFile = join(dir, 'kube-cluster-secret');
  writeFileSync(clusterSecretFile, internal.secret ?? '', { mode: 0o600 });

  const bucketName: string = bk.status?.bucketName ?? creds.BUCKET_NAME ?? bucket.metadata.name;
  const info = (procs: LocalProcess[], operators: any[]): ClusterInfo => {
    const front = procs.find((p) => p.role === 'node') ?? procs[0]!;
    return {
      // Every storage pod serves the web console beside its file API (port 9001).
      mode: 'kubernetes',
      endpoint: front.api,
      console: `http://${new URL(front.api).hostname}:9001`,
      accessKey: root.AWS_ACCESS_KEY_ID!,
      secretKey: root.AWS_SECRET_ACCESS_KEY!,
      region: creds.AWS_REGION ?? 'us-east-1',
      credentials: `root (Secret ${ns}/${adminName}); the bucket's own keys are under "bucket"`,
      admin: procs.find((p) => p.role.includes('root'))?.cluster ?? front.cluster,
      clusterSecretFile,
      bucket: {
        name: bucketName,
        accessKey: creds.AWS_ACCESS_KEY_ID,
        secretKey: creds.AWS_SECRET_ACCESS_KEY,
        secret: `${ns}/${bucket.spec.credentials?.secretName}`,
        inClusterEndpoint: creds.S3_ENDPOINT,
      },
      kubeconfig: kubeconfigPath,
      apiServer: plane!.apiServer!.url,
      namespace: ns,
      storageCluster: cluster.metadata.name,
      processes: procs,
      operators: operators.map((p) => ({
        name: p.metadata.name,
        role: 'operator',
        pid: podPid(p),
        metrics: p.status?.podIP ? `http://${p.status.podIP}:8080` : undefined,
      })),
      podLogs: join(kubeDir, 'logs'),
    };
  };
  const operatorPods = async () => (await get(`/api/v1/namespaces/${OPERATOR_NS}/pods?labelSelector=app%3Dcairn-operator`))?.items ?? [];
  let current = info(podProcesses(pods, kubeDir), await operatorPods());
  const file = writeClusterInfo(dir, current);
  const kc = `kubectl --kubeconfig ${kubeconfigPath}`;
  console.log(`
Cairn is serving on the local Kubernetes control plane: StorageCluster ${ns}/${cluster.metadata.name} (${current.processes.length} pods), Bucket ${bucketName}.
  endpoint     ${current.endpoint}   (every storage pod's :9000 answers; see processes in cluster.json)
  console      ${current.console}   (sign in with an access key and its secret, e.g. the bucket's)
  bucket       ${bucketName}
  access key   ${creds.AWS_ACCESS_KEY_ID}        (the bucket's keys, Secret ${ns}/${bucket.spec.credentials?.secretName})
  secret key   ${creds.AWS_SECRET_ACCESS_KEY}
  region       ${current.region}
  root keys    Secret ${ns}/${adminName}, and accessKey/secretKey in ${file}
  kubeconfig   ${kubeconfigPath}   (API server ${plane.apiServer!.url}, namespace ${ns})
Try:  ${kc} get storageclusters
      ${kc} get pods -A -o wide
      AWS_ACCESS_KEY_ID=${creds.AWS_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${creds.AWS_SECRET_ACCESS_KEY} aws --endpoint-url ${current.endpoint} s3 ls s3://${bucketName}
Pod logs in ${join(kubeDir, 'logs')}. Ctrl-C stops everything; objects and data stay in ${dir}.
`);

  // Pods restart and get scaled: keep cluster.json's pids and endpoints current.
  const refresh = setInterval(
    () =>
      void (async () => {
        if (stopping) return;
        const now = (await get(`/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(clusterSelector(cluster.metadata.name))}`))?.items ?? [];
        const procs = podProcesses(now.filter(podReady), kubeDir);
        if (procs.length === 0 || stopping) return;
        const next = info(procs, await operatorPods());
        if (JSON.stringify(next) !== JSON.stringify(current)) {
          current = next;
          writeClusterInfo(dir, next);
        }
      })().catch(() => {
        /* the next round tries again */
      }),
    5000,
  );
  refresh.unref();
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every pod's cluster port says ready and its file API port takes HTTP (any status is an answer). */
async function answering(procs: LocalProcess[]): Promise<boolean> {
  const ok = await Promise.all(
    procs.map(async (p) => {
      try {
        const r = await fetch(`${p.cluster}/readyz`, { signal: AbortSignal.timeout(3000) });
        if (!r.ok) return false;
        await (await fetch(`${p.api}/`, { signal: AbortSignal.timeout(3000) })).arrayBuffer();
        return true;
      } catch {
        return false;
      }
    }),
  );
  return ok.every(Boolean);
}
