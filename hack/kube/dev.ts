// `npm run dev`: the local Kubernetes control plane in the foreground — API server emulator,
// controllers and process kubelet(s) — with its data under ${CAIRN_HOME:-.cairn}/local/kube and a
// kubeconfig at ${CAIRN_HOME:-.cairn}/local/kubeconfig. Objects persist across runs; Ctrl-C stops
// every pod process and the servers.
import { resolve, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane, type ControlPlane } from './controlplane.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.CAIRN_KUBE_PORT ?? '16443' },
    host: { type: 'string', default: '127.0.0.1' },
    nodes: { type: 'string', default: '1' },
    kubeconfig: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`usage: npm run dev -- [--port 16443] [--host 127.0.0.1] [--nodes 1] [--kubeconfig FILE]
  Runs the local Kubernetes control plane (API server emulator, controllers, process kubelets) in
  the foreground. Data: \${CAIRN_HOME:-.cairn}/local/kube. With --kubeconfig, no emulator is started:
  the controllers and kubelets join that cluster (e.g. a bare kube-apiserver, envtest style).`);
  process.exit(0);
}

const nodes = Number(values.nodes);
const port = Number(values.port);
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 20) {
  console.error('--nodes must be an integer from 1 to 20');
  process.exit(2);
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('--port must be a TCP port (0 = any free port)');
  process.exit(2);
}

const home = resolve(process.env.CAIRN_HOME ?? '.cairn');
const dataDir = join(home, 'local', 'kube');
const kubeconfigPath = join(home, 'local', 'kubeconfig');

let plane: ControlPlane;
try {
  plane = await startControlPlane({
    dataDir,
    kubeconfigPath,
    kubeconfig: values.kubeconfig ? resolve(values.kubeconfig) : undefined,
    host: values.host,
    port,
    nodes,
  });
} catch (e) {
  if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw e;
  console.error(`port ${port} is in use; taking a free port instead`);
  plane = await startControlPlane({ dataDir, kubeconfigPath, host: values.host, port: 0, nodes });
}

console.log(`
Local Kubernetes control plane is up: ${plane.apiServer?.url ?? `the cluster of ${plane.kubeconfigPath}`}  (${nodes} process node${nodes > 1 ? 's' : ''})
  export KUBECONFIG=${plane.kubeconfigPath}
  kubectl get nodes
  kubectl apply -f crds/
  kubectl get pods -A -o wide
Pod logs:     ${join(dataDir, 'logs')}/<namespace>_<pod>_<uid>/<container>.log
PVC dirs:     ${join(dataDir, 'pvc')}/<namespace>/<claim>
Ctrl-C stops the control plane and every pod process; API objects persist in ${join(dataDir, 'apiserver.json')}.
`);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) {
    console.error('forced exit');
    process.exit(1);
  }
  stopping = true;
  console.log(`\n${signal}: stopping pods and the control plane...`);
  await plane.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
