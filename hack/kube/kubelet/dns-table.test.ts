import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildHostsTable, candidateNames, resolveKubeName, withSelf } from './dns-table.ts';
import { PodIpAllocator } from './ip.ts';
import { proxyTarget } from './service-proxy.ts';
import { assignNodes } from './scheduling.ts';

const services = [
  { metadata: { name: 'nodes', namespace: 'ns1' }, spec: { clusterIP: 'None' } },
  {
    metadata: { name: 'api', namespace: 'ns1' },
    spec: {
      clusterIP: '10.0.0.1',
      ports: [
        { name: 'http', port: 80 },
        { name: 'admin', port: 81 },
      ],
    },
  },
  { metadata: { name: 'legacy', namespace: 'ns1' }, spec: {} },
  { metadata: { name: 'ext', namespace: 'ns1' }, spec: { type: 'ExternalName', externalName: 'example.org' } },
];
const endpoints = [
  {
    metadata: { name: 'nodes', namespace: 'ns1' },
    subsets: [
      {
        addresses: [
          { ip: '127.0.1.3', hostname: 'n-1' },
          { ip: '127.0.1.2', hostname: 'n-0' },
        ],
        notReadyAddresses: [{ ip: '127.0.1.4', hostname: 'n-2' }],
      },
    ],
  },
  {
    metadata: { name: 'api', namespace: 'ns1' },
    subsets: [
      {
        addresses: [{ ip: '127.0.1.2' }, { ip: '127.0.1.3' }],
        ports: [
          { name: 'http', port: 8080 },
          { name: 'admin', port: 9100 },
        ],
      },
    ],
  },
  { metadata: { name: 'legacy', namespace: 'ns1' }, subsets: [{ addresses: [{ ip: '127.0.1.2' }, { ip: '127.0.1.3' }] }] },
];
const table = buildHostsTable(services, endpoints);

test('headless: service name → every ready pod; pod hostnames → their pod; unready pods are not published', () => {
  assert.equal(table.names['nodes.ns1.svc.cluster.local'], ['127.0.1.2', '127.0.1.3']);
  assert.equal(table.names['n-0.nodes.ns1.svc.cluster.local'], ['127.0.1.2']);
  assert.is(table.names['n-2.nodes.ns1.svc.cluster.local'], undefined);
  assert.equal(resolveKubeName('nodes.ns1.svc.cluster.local', table, 'other'), { addresses: ['127.0.1.2', '127.0.1.3'] });
});

test('every Kubernetes spelling resolves: fqdn, .svc, <svc>.<ns>, <svc>, <pod>.<svc>', () => {
  const one = (h: string, ns = 'ns1') => resolveKubeName(h, table, ns, () => 1);
  assert.equal(one('n-1.nodes.ns1.svc.cluster.local'), { addresses: ['127.0.1.3'] });
  assert.equal(one('n-1.nodes.ns1.svc'), { addresses: ['127.0.1.3'] });
  assert.equal(one('n-1.nodes.ns1', 'elsewhere'), { addresses: ['127.0.1.3'] });
  assert.equal(one('n-1.nodes'), { addresses: ['127.0.1.3'] });
  assert.equal(one('api'), { addresses: ['10.0.0.1'] }, 'ClusterIP: the clusterIP');
  assert.equal(one('api.ns1'), { addresses: ['10.0.0.1'] });
  assert.equal(one('API.NS1.SVC.CLUSTER.LOCAL.'), { addresses: ['10.0.0.1'] });
  assert.equal(one('legacy'), { addresses: ['127.0.1.3'] }, 'no clusterIP: one ready endpoint');
  assert.equal(one('ext.ns1'), { alias: 'example.org' });
  assert.is(one('api', 'other-ns'), undefined, 'short names search the pod namespace only');
  assert.is(one('example.com'), undefined);
  assert.is(one('127.0.0.1'), undefined);
  assert.is(one('localhost'), undefined);
});

test('the service proxy sends clusterIP:port (or the name) to a ready endpoint on its target port', () => {
  assert.equal(
    proxyTarget('10.0.0.1', 80, table, 'ns1', () => 0),
    { host: '127.0.1.2', port: 8080 },
  );
  assert.equal(
    proxyTarget('api', '81', table, 'ns1', () => 1),
    { host: '127.0.1.3', port: 9100 },
  );
  assert.equal(
    proxyTarget('api.ns1.svc.cluster.local', 80, table, 'other', () => 0),
    { host: '127.0.1.2', port: 8080 },
  );
  assert.equal(proxyTarget('10.0.0.1', 82, table, 'ns1'), { host: '127.0.0.1', port: 1 }, 'an unknown port is refused');
  assert.is(proxyTarget('127.0.1.2', 8080, table, 'ns1'), undefined, 'pod IPs are not proxied');
  assert.is(proxyTarget('example.com', 80, table, 'ns1'), undefined);
  assert.is(proxyTarget('n-0.nodes', 80, table, 'ns1'), undefined, 'headless names are plain DNS');
});

test('search order is that of a pod resolv.conf with ndots:5', () => {
  assert.equal(candidateNames('a.b', 'ns'), ['a.b.ns.svc.cluster.local', 'a.b.svc.cluster.local', 'a.b.cluster.local', 'a.b']);
  assert.equal(candidateNames('a.', 'ns'), ['a']);
});

test('a pod resolves its own hostname and fqdn', () => {
  const t = withSelf(table, { hostname: 'n-2', subdomain: 'nodes', namespace: 'ns1', ip: '127.0.1.4' });
  assert.equal(resolveKubeName('n-2', t, 'ns1'), { addresses: ['127.0.1.4'] });
  assert.equal(resolveKubeName('n-2.nodes.ns1.svc.cluster.local', t, 'ns1'), { addresses: ['127.0.1.4'] });
});

test('pod IPs: stable per pod, remembered per name, released on delete, bad networks refused', () => {
  const ips = new PodIpAllocator('127.0.', 9);
  const a = ips.allocate('uid-a', 'ns/a');
  const b = ips.allocate('uid-b', 'ns/b');
  assert.is(a, '127.0.9.2');
  assert.is(b, '127.0.9.3');
  assert.is(ips.allocate('uid-a', 'ns/a'), a);
  ips.release('uid-a');
  assert.is(ips.allocate('uid-c', 'ns/c'), '127.0.9.4', 'a free address of another pod name is not reused first');
  assert.is(ips.allocate('uid-a2', 'ns/a'), a, 'a pod name that comes back gets its address again');
  assert.is(new PodIpAllocator('127.5.6.', 0).allocate('u', 'n'), '127.5.6.2');
  assert.throws(() => new PodIpAllocator('10.0.', 1), /loopback/);
});

test('scheduling: least loaded Ready process node matching the nodeSelector, pods created together spread', () => {
  const node = (name: string, ready = true, labels: Record<string, string> = {}) => ({
    metadata: { name, labels: { 'cairn.dev/process-kubelet': 'true', ...labels } },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  const bound = { metadata: { name: 'p', uid: 'p' }, spec: { nodeName: 'a' }, status: { phase: 'Running' } };
  const pod = (name: string, spec: Record<string, unknown> = {}) => ({
    metadata: { name, uid: name, namespace: 'ns', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec,
  });
  assert.is(assignNodes([bound, pod('x')], [node('a'), node('b')]).get('x'), 'b');
  assert.is(assignNodes([bound, pod('x')], [node('a'), node('b', false)]).get('x'), 'a');
  assert.equal(
    [...assignNodes([pod('x-0'), pod('x-1'), pod('x-2')], [node('a'), node('b')])],
    [
      ['x-0', 'a'],
      ['x-1', 'b'],
      ['x-2', 'a'],
    ],
  );
  assert.is(assignNodes([pod('x', { nodeSelector: { zone: 'z1' } })], [node('a'), node('b')]).get('x'), undefined);
  assert.is(assignNodes([bound, pod('x', { nodeSelector: { zone: 'z1' } })], [node('a', true, { zone: 'z1' }), node('b')]).get('x'), 'a');
});

test('scheduling: required node affinity filters; topology spread puts pods of one selector in the emptiest zone', () => {
  const node = (name: string, zone?: string) => ({
    metadata: { name, labels: { 'cairn.dev/process-kubelet': 'true', ...(zone ? { 'topology.kubernetes.io/zone': zone } : {}) } },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const spread = (when = 'ScheduleAnyway') => ({
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: when, labelSelector: { matchLabels: { app: 'db' } } },
    ],
  });
  const pod = (name: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = { app: 'db' }, nodeName?: string) => ({
    metadata: { name, uid: name, namespace: 'ns', labels, creationTimestamp: `2026-01-01T00:00:0${name.slice(-1)}Z` },
    spec: { ...spec, ...(nodeName ? { nodeName } : {}) },
    status: { phase: nodeName ? 'Running' : 'Pending' },
  });
  // Two nodes in zone a, one in b: three pods of the set land a, b, a — not a, a, b as load alone would have it.
  const nodes = [node('n1', 'a'), node('n2', 'a'), node('n3', 'b')];
  const others = [pod('o1', {}, { app: 'other' }, 'n3'), pod('o2', {}, { app: 'other' }, 'n3')];
  const got = assignNodes([...others, pod('db-0', spread()), pod('db-1', spread()), pod('db-2', spread())], nodes);
  assert.equal(
    ['db-0', 'db-1', 'db-2'].map((p) => nodes.find((n) => n.metadata.name === got.get(p))!.metadata.labels['topology.kubernetes.io/zone']),
    ['a', 'b', 'a'],
  );
  // DoNotSchedule: a third pod may not go to a zone already one ahead.
  const strict = assignNodes(
    [pod('db-0', spread('DoNotSchedule'), { app: 'db' }, 'n1'), pod('db-1', spread('DoNotSchedule'))],
    [node('n1', 'a'), node('n2', 'a')],
  );
  assert.is(strict.get('db-1'), 'n2', 'one zone only: skew 1 is allowed');
  const full = assignNodes(
    [
      pod('db-0', spread('DoNotSchedule'), { app: 'db' }, 'n1'),
      pod('db-1', spread('DoNotSchedule'), { app: 'db' }, 'n3'),
      pod('db-2', spread('DoNotSchedule')),
    ],
    [node('n1', 'a'), node('n2', 'a'), node('n3', 'b')],
  );
  assert.ok(['n1', 'n2', 'n3'].includes(full.get('db-2')!));
  // Nodes without the key come last; required affinity filters.
  assert.is(assignNodes([pod('db-0', spread())], [node('n0'), node('n9', 'z')]).get('db-0'), 'n9');
  const affinity = {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['b'] }] }],
        },
      },
    },
  };
  assert.is(assignNodes([pod('db-0', affinity)], nodes).get('db-0'), 'n3');
  assert.is(assignNodes([pod('db-0', affinity)], [node('n1', 'a')]).get('db-0'), undefined, 'no node fits: the pod stays pending');
});

test.run();
