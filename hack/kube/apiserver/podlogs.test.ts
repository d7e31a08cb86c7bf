// pods/log proxies to the kubelet endpoint the pod's Node advertises (as kube-apiserver does).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import { loopbackAddress } from '../../testing/net.ts';
import { emulatorOnly, kubeTestEnv, statusOf, type KubeTestEnv } from './testenv.ts';

let env: KubeTestEnv;
const kubeletHost = loopbackAddress();
const seen: string[] = [];
const kubelet = createServer((req, res) => {
  seen.push(req.url!);
  res.end('line one\nline two\n');
});
test.before(async () => {
  env = await kubeTestEnv('logs');
  await new Promise<void>((r) => kubelet.listen(0, kubeletHost, r));
});
test.after(async () => {
  kubelet.close();
  await env?.close();
});

emulatorOnly(test, "it makes a Node whose kubelet is this test's HTTP server, which a real cluster would not reach")(
  'kubectl logs reaches the node kubelet through pods/log',
  async () => {
    const port = (kubelet.address() as { port: number }).port;
    const node = `logs-node-${env.ns}`;
    await env.core.createNode({ body: { metadata: { name: node } } });
    await env.core.patchNodeStatus(
      { name: node, body: { status: { addresses: [{ type: 'InternalIP', address: kubeletHost }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } } },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await env.core.createNamespacedPod({
      namespace: env.ns,
      body: { metadata: { name: 'p' }, spec: { nodeName: node, containers: [{ name: 'c', image: 'x' }] } },
    });
    const r = await env.kubectl(['logs', 'p', '-n', env.ns, '--tail=5']);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'line one\nline two\n');
    assert.match(seen[0], new RegExp(`^/containerLogs/${env.ns}/p/c\\?tailLines=5`));
    await env.core.createNamespacedPod({ namespace: env.ns, body: { metadata: { name: 'unscheduled' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
    const none = await statusOf(env.core.readNamespacedPodLog({ namespace: env.ns, name: 'unscheduled' }));
    assert.is(none.code, 400);
    await env.core.deleteNode({ name: node });
  },
);

test.run();
