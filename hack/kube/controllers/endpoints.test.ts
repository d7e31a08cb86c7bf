import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { endpointSlicesFor, endpointsFor } from './endpoints.ts';
import { matchesSelector } from './client.ts';
import type { KubeObject } from './informers.ts';

const svc = (over: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'hl', namespace: 'ns1', labels: { app: 'x' } },
  spec: { selector: { app: 'x' }, clusterIP: 'None', ports: [{ name: 'api', port: 9000, targetPort: 'api' }], ...over },
});
const pod = (name: string, ip: string | undefined, ready: boolean, over: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, namespace: 'ns1', uid: `u-${name}`, labels: { app: 'x' } },
  spec: { hostname: name, subdomain: 'hl', nodeName: 'n1', containers: [{ name: 'c', ports: [{ name: 'api', containerPort: 9000 }] }] },
  status: { phase: 'Running', ...(ip ? { podIP: ip } : {}), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  ...over,
});

test('ready pods are addresses, unready ones notReadyAddresses, with hostnames and resolved named ports', () => {
  const ep = endpointsFor(svc(), [
    pod('a-1', '127.0.1.3', true),
    pod('a-0', '127.0.1.2', false),
    pod('other', '127.0.1.9', true, { metadata: { name: 'other', namespace: 'ns1', labels: { app: 'y' } } }),
  ])!;
  assert.is(ep.metadata.name, 'hl');
  assert.equal(ep.subsets, [
    {
      addresses: [{ ip: '127.0.1.3', targetRef: { kind: 'Pod', name: 'a-1', namespace: 'ns1', uid: 'u-a-1' }, hostname: 'a-1', nodeName: 'n1' }],
      notReadyAddresses: [{ ip: '127.0.1.2', targetRef: { kind: 'Pod', name: 'a-0', namespace: 'ns1', uid: 'u-a-0' }, hostname: 'a-0', nodeName: 'n1' }],
      ports: [{ name: 'api', port: 9000, protocol: 'TCP' }],
    },
  ]);
});

test('publishNotReadyAddresses lists every pod as an address; pods without IP or terminating are left out', () => {
  const terminating = pod('t', '127.0.1.7', true);
  terminating.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  const ep = endpointsFor(svc({ publishNotReadyAddresses: true }), [pod('a-0', '127.0.1.2', false), pod('b', undefined, true), terminating])!;
  assert.equal(
    ep.subsets.map((s: any) => s.addresses.map((a: any) => a.ip)),
    [['127.0.1.2']],
  );
  assert.is(ep.subsets[0].notReadyAddresses, undefined);
});

test('no matching pods gives no subsets; no selector gives no Endpoints at all', () => {
  assert.is(endpointsFor(svc(), [])!.subsets, undefined);
  assert.is(endpointsFor(svc({ selector: undefined }), [pod('a', '127.0.0.2', true)]), undefined);
});

test('EndpointSlices mirror the Endpoints: ready conditions, hostnames, ports, service label and owner', () => {
  const service = svc();
  service.metadata.uid = 'svc-uid';
  const ep = endpointsFor(service, [pod('a-1', '127.0.1.3', true), pod('a-0', '127.0.1.2', false)])!;
  const [slice, ...rest] = endpointSlicesFor(service, ep);
  assert.is(rest.length, 0);
  assert.match(slice.metadata.name, /^hl-[0-9a-f]{5}$/);
  assert.is(slice.metadata.labels!['kubernetes.io/service-name'], 'hl');
  assert.is(slice.metadata.ownerReferences![0].uid, 'svc-uid');
  assert.is(slice.addressType, 'IPv4');
  assert.equal(
    slice.endpoints.map((e: any) => [e.addresses[0], e.hostname, e.conditions.ready]),
    [
      ['127.0.1.3', 'a-1', true],
      ['127.0.1.2', 'a-0', false],
    ],
  );
  assert.equal(slice.ports, [{ name: 'api', port: 9000, protocol: 'TCP' }]);
  assert.equal(endpointSlicesFor(service, endpointsFor(service, [])!)[0].endpoints, [], 'an empty slice when nothing matches');
});

test('label selectors with expressions', () => {
  assert.ok(
    matchesSelector(
      { a: '1', b: '2' },
      {
        matchLabels: { a: '1' },
        matchExpressions: [
          { key: 'b', operator: 'In', values: ['2', '3'] },
          { key: 'c', operator: 'DoesNotExist' },
        ],
      },
    ),
  );
  assert.not.ok(matchesSelector({ a: '1' }, { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }));
  assert.not.ok(matchesSelector({ a: '1' }, undefined));
});

test.run();
