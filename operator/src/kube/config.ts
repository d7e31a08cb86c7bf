// Loading the kubeconfig. client-node 2.x refuses plain http:// servers unless the cluster entry
// has insecure-skip-tls-verify (kubectl does not care); for an http server that flag changes
// nothing about security (there is no TLS to verify), so it is set here for such clusters only.
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (kc.clusters.some((c) => c.server.startsWith('http://') && !c.skipTLSVerify)) {
    kc.loadFromOptions({
      clusters: kc.clusters.map((c) => (c.server.startsWith('http://') ? { ...c, skipTLSVerify: true } : c)),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
  }
  return kc;
}
