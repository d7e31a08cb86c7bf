// Leader election as users run it: the chart's own Deployment (rendered by the real helm, default
// values, nothing injected) installed into the local control plane, so two `cairn operator` pods run
// with the default Lease timings. At rest each replica sends at most one Lease request per second
// and keeps its open file descriptors flat; after a SIGKILL of the leader (no release) a live
// replica leads once the Lease has gone unrenewed for its duration.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { startControlPlane, type ControlPlane } from '../../hack/kube/controlplane.ts';
import { randomPodNetwork } from '../../hack/kube/kubelet/test-workloads.ts';
import { loopbackAddress, waitFor } from '../../hack/testing/net.ts';
import { loadKubeConfig } from '../src/kube/config.ts';
import { DEFAULT_LEASE_TIMINGS, JITTER } from '../src/kube/lease.ts';
import { KubeApiError, KubeRest, PATCH_APPLY } from '../src/kube/rest.ts';
import { pathOf, yamlObjects } from './e2e/harness.ts';
import { runHelm } from './helm.ts';

const NS = 'cairn-system';
const chartDir = new URL('../../charts/cairn-operator', import.meta.url).pathname;
const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/cairn-operator`;
const dataDir = mkdtempSync(join(tmpdir(), 'cairn-leader-'));
let plane: ControlPlane;
let rest: KubeRest;

const get = (path: string) =>
  rest.request<any>('GET', path).catch((e) => {
    if (e instanceof KubeApiError && e.status === 404) return undefined;
    throw e;
  });
const apply = (obj: any) => rest.request<any>('PATCH', pathOf(obj), { contentType: PATCH_APPLY, query: { fieldManager: 'helm', force: true }, body: obj });
const pods = async () => ((await get(`/api/v1/namespaces/${NS}/pods`))?.items ?? []) as any[];
const ready = (p: any) => (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
const holder = async (): Promise<string> => (await get(leasePath))?.spec?.holderIdentity ?? '';

/** The sum of a metric's samples (optionally only those whose labels contain `match`). */
async function metric(pod: any, name: string, match = ''): Promise<number> {
  const text = await (await fetch(`http://${pod.status.podIP}:8080/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    if (match && !line.includes(match)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

test.before(async () => {
  plane = await startControlPlane({ dataDir, host: loopbackAddress(), persist: false, ...randomPodNetwork(), kubelet: { maxProbePeriodMs: 1000 } });
  rest = new KubeRest(loadKubeConfig(plane.kubeconfigPath));
  for (const crd of [...yamlObjects('crds/storagecluster.yaml'), ...yamlObjects('crds/bucket.yaml')]) await apply(crd);
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  // `helm template | kubectl apply`: the chart's objects exactly as rendered with default values.
  const r = await runHelm(['template', 'cairn', chartDir, '--namespace', NS]);
  assert.is(r.code, 0, r.stderr);
  for (const doc of parseAllDocuments(r.stdout)) {
    const o = doc.toJS();
    if (o) await apply({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? (o.kind.startsWith('Cluster') ? undefined : NS) } });
  }
});

test.after(async () => {
  await plane?.stop();
  await rest?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('two chart replicas: one leads with the default timings, ≤ 1 Lease request/s each, fds flat; SIGKILL → a live replica leads', async () => {
  const both = await waitFor(
    async () => {
      const p = (await pods()).filter(ready);
      return p.length === 2 ? p : undefined;
    },
    { what: 'both operator pods ready', timeoutMs: 60_000 },
  );
  const leaderName = (await waitFor(holder, { what: 'a leader', timeoutMs: 30_000 })).split('_')[0];
  const leader = both.find((p: any) => p.metadata.name === leaderName);
  const standby = both.find((p: any) => p.metadata.name !== leaderName);
  assert.ok(leader && standby, `the holder ${leaderName} is one of the two pods`);
  const lease = await get(leasePath);
  assert.is(lease.spec.leaseDurationSeconds, DEFAULT_LEASE_TIMINGS.leaseDurationMs / 1000, 'the Lease says how long it is valid');
  assert.is(await metric(leader, 'cairn_operator_leader_election_master_status'), 1);
  assert.is(await metric(standby, 'cairn_operator_leader_election_master_status'), 0);

  // At rest: count each replica's Lease requests and open fds over a window.
  const windowMs = 12_000;
  const leaseRequests = (p: any) => metric(p, 'cairn_operator_rest_client_requests_total', 'resource="leases"');
  const fds = (p: any) => metric(p, 'cairn_operator_process_open_fds');
  const before = await Promise.all([leader, standby].map(async (p) => ({ requests: await leaseRequests(p), fds: await fds(p) })));
  const started = Date.now();
  // A poll with a deadline, not a sleep: the window is over when the Lease was renewed `windowMs` later.
  await waitFor(async () => Date.now() - started >= windowMs && Date.parse((await get(leasePath)).spec.renewTime) > started, {
    what: 'the window',
    timeoutMs: windowMs + 10_000,
  });
  const seconds = (Date.now() - started) / 1000;
  for (const [i, p] of [leader, standby].entries()) {
    const rate = ((await leaseRequests(p)) - before[i].requests) / seconds;
    assert.ok(rate <= 1, `${p.metadata.name}: ${rate.toFixed(2)} Lease requests/s (≤ 1)`);
    assert.ok(rate > 0, `${p.metadata.name} talks to the Lease at all`);
    const grown = (await fds(p)) - before[i].fds;
    assert.ok(grown <= 3, `${p.metadata.name}: open fds ${before[i].fds} → ${before[i].fds + grown} over ${seconds.toFixed(0)} s`);
  }

  // kill -9 the leader: no release, so the others must wait the Lease out. Two live candidates do:
  // the standby, and the killed pod's container, which the kubelet restarts at once (a crash's
  // first restart is immediate, as in Kubernetes) under a new identity. Whichever asks first after
  // expiry leads, so either may; never the dead process, never before expiry.
  const killed = await holder();
  const killedAt = Date.now();
  plane.kubelet.killContainer(NS, leaderName, { signal: 'SIGKILL' });
  const lastRenew = Date.parse((await get(leasePath)).spec.renewTime);
  const next = await waitFor(
    async () => {
      const h = await holder();
      return h && h !== killed ? h : undefined;
    },
    { what: 'a new leader', timeoutMs: 40_000 },
  );
  const tookOverAt = Date.now();
  const successor = [standby, leader].find((p) => p.metadata.name === next.split('_')[0]);
  assert.ok(successor, `${next} is the standby or the restarted leader pod`);
  // The bound is the standby's (it takes the Lease at its expiry unless the other did first): it
  // counts the duration from when it saw the last renewal, which it reads at most one jittered retry
  // period after it was written; then it wakes at expiry.
  const bound = DEFAULT_LEASE_TIMINGS.leaseDurationMs + DEFAULT_LEASE_TIMINGS.retryMs * (1 + JITTER) + 1_000;
  assert.ok(
    tookOverAt - lastRenew <= bound,
    `took over ${tookOverAt - lastRenew} ms after the last renewal (bound ${bound} ms; ${tookOverAt - killedAt} ms after the kill)`,
  );
  assert.ok(tookOverAt - lastRenew >= DEFAULT_LEASE_TIMINGS.leaseDurationMs - 1_000, 'not before the Lease expired');
  await waitFor(async () => (await metric(successor, 'cairn_operator_leader_election_master_status')) === 1, { what: 'the new leader says so in its metrics' });
});

test.run();
