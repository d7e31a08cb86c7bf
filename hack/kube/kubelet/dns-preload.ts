// The pod environment for Node programs, loaded with NODE_OPTIONS="--import <this file>" by the
// kubelet: cluster names resolve from the hosts table the kubelet keeps (cluster-dns.ts), every other
// name through the real resolver; listens on all interfaces bind the pod IP (pod-network.ts).
// Product code is unchanged and the machine's /etc/hosts is never touched.
// Env: CAIRN_KUBE_HOSTS (table file), CAIRN_KUBE_NAMESPACE (search path), CAIRN_KUBE_SELF (JSON
// {hostname, subdomain?, namespace, ip}: the pod's own names, as a pod's /etc/hosts has them),
// CAIRN_KUBE_POD_IP (wildcard listens bind here), CAIRN_KUBE_KUBELET_PID (the kubelet; see the watchdog).
import { installClusterDns } from './cluster-dns.ts';
import { installPodNetwork } from './pod-network.ts';

// Listening on all interfaces means the pod IP (see pod-network.ts).
if (process.env.CAIRN_KUBE_POD_IP) installPodNetwork(process.env.CAIRN_KUBE_POD_IP);

if (process.env.CAIRN_KUBE_HOSTS) {
  installClusterDns({
    hostsFile: process.env.CAIRN_KUBE_HOSTS,
    namespace: process.env.CAIRN_KUBE_NAMESPACE ?? 'default',
    self: process.env.CAIRN_KUBE_SELF ? JSON.parse(process.env.CAIRN_KUBE_SELF) : undefined,
  });
}

// A pod process started by the kubelet dies with it: its own process group outlives a kubelet that
// was SIGKILLed (e.g. a test runner's timeout), and nothing else would ever stop it. Only the
// direct child checks, so a pod's own child processes are left to their parent.
const kubeletPid = Number(process.env.CAIRN_KUBE_KUBELET_PID);
if (kubeletPid && process.ppid === kubeletPid) {
  setInterval(() => {
    if (process.ppid !== kubeletPid) process.kill(process.pid, 'SIGKILL');
  }, 1000).unref();
}
