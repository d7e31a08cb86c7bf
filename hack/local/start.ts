// `npm start`: a local Cairn cluster in the foreground, data under ${CAIRN_HOME:-.cairn}/local.
// Default: the Kubernetes way (kube.ts) — local control plane, CRDs, the operator as Pods, the
// examples applied, Ready awaited. `--direct`: plain `cairn server` processes, no Kubernetes
// (direct.ts). Both write $CAIRN_HOME/local/cluster.json and stop everything on Ctrl-C.
import { parseArgs } from 'node:util';

const usage = `usage: npm start -- [options]
  Kubernetes (default): control plane + operator Pods + examples/storagecluster.yaml and examples/bucket.yaml
    --nodes N          storage nodes (patches spec.nodes.replicas; default: the example's)
    --roots N          roots (spec.roots.replicas; default: the example's)
    --replicas R       replication factor of the cluster and the bucket (default: the example's)
    --kube-host IP     API server address, loopback (default 127.0.0.1)
    --kube-port P      API server port (default $CAIRN_KUBE_PORT or 16443; busy = a free one; 0 = any)
    --pod-network PFX  loopback prefix of pod IPs (default 127.0. → pods on 127.0.100.x)
    --timeout S        seconds to wait for Ready (default 600)
  --direct: plain processes, no Kubernetes; their logs go to $CAIRN_HOME/local/logs, errors to the terminal
    --roots N (1)  --nodes N (3; 0 = combined root+node processes)  --replicas R (2)  --timeout S (60)
    --api-port P (9000)  --cluster-port P (9100)
    --host-prefix PFX (127.0.0.)  --first-host N (2: the first process is 127.0.0.2)`;

let parsed;
try {
  parsed = parseArgs({
    options: {
      direct: { type: 'boolean', default: false },
      roots: { type: 'string' },
      nodes: { type: 'string' },
      replicas: { type: 'string' },
      'api-port': { type: 'string', default: '9000' },
      'cluster-port': { type: 'string', default: '9100' },
      'first-host': { type: 'string', default: '2' },
      'host-prefix': { type: 'string', default: '127.0.0.' },
      'kube-host': { type: 'string', default: '127.0.0.1' },
      'kube-port': { type: 'string', default: process.env.CAIRN_KUBE_PORT ?? '16443' },
      'pod-network': { type: 'string', default: '127.0.' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (e) {
  console.error(`${(e as Error).message}\n${usage}`);
  process.exit(2);
}
const flags = parsed.values;
if (flags.help) {
  console.log(usage);
  process.exit(0);
}

/** An integer flag in [min, max], or a clear error and exit 2. */
function int(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
    process.exit(2);
  }
  return n;
}
// The web console's static assets, built from console/src (half a second) so every node serves them.
{
  const { buildConsole } = await import('../../console/build.ts');
  await buildConsole().catch((e) => console.error(`the console's assets could not be built (${(e as Error).message}); its pages will answer 503`));
}

const roots = int('roots', flags.roots, 1, 9);
const nodes = int('nodes', flags.nodes, flags.direct ? 0 : 1, 50);
const replicas = int('replicas', flags.replicas, 1, 10);

if (flags.direct) {
  const { runDirect } = await import('./direct.ts');
  const o = {
    roots: roots ?? 1,
    nodes: nodes ?? 3,
    replicas: replicas ?? 2,
    apiPort: int('api-port', flags['api-port'], 1, 65535)!,
    clusterPort: int('cluster-port', flags['cluster-port'], 1, 65535)!,
    firstHost: int('first-host', flags['first-host'], 1, 250)!,
    hostPrefix: flags['host-prefix'],
    readyTimeoutMs: (int('timeout', flags.timeout, 1, 86_400) ?? 60) * 1000,
  };
  if (!/^127\.\d{1,3}\.\d{1,3}\.$/.test(o.hostPrefix)) {
    console.error(`--host-prefix must be a loopback prefix like 127.0.0., got "${o.hostPrefix}"`);
    process.exit(2);
  }
  if (o.replicas > Math.max(1, o.nodes)) {
    console.error(`--replicas ${o.replicas} needs at least as many nodes (--nodes ${o.nodes})`);
    process.exit(2);
  }
  await runDirect(o);
} else {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(flags['kube-host'])) {
    console.error(`--kube-host must be a loopback IPv4 address (127.x.y.z), got "${flags['kube-host']}"`);
    process.exit(2);
  }
  if (!/^127\.\d{1,3}\.$/.test(flags['pod-network'])) {
    console.error(`--pod-network must be a two-octet loopback prefix like 127.0., got "${flags['pod-network']}"`);
    process.exit(2);
  }
  if (replicas !== undefined && nodes !== undefined && replicas > nodes) {
    console.error(`--replicas ${replicas} needs at least as many nodes (--nodes ${nodes})`);
    process.exit(2);
  }
  // The control plane runs in this process: keep its JSON logs to warnings so the summary stays
  // readable (pods log to files; CAIRN_LOG_LEVEL=info shows everything). Set before log.ts loads.
  process.env.CAIRN_LOG_LEVEL ??= 'warn';
  const { runKubernetes } = await import('./kube.ts');
  try {
    await runKubernetes({
      roots,
      nodes,
      replicas,
      kubeHost: flags['kube-host'],
      kubePort: int('kube-port', flags['kube-port'], 0, 65535)!,
      podNetwork: flags['pod-network'],
      timeoutMs: (int('timeout', flags.timeout, 1, 86_400) ?? 600) * 1000,
    });
  } catch (e) {
    console.error(`npm start failed: ${(e as Error).message}`);
    process.exit(1); // the kubelet's exit hook kills any pod it started
  }
}
