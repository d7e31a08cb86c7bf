import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tailLines } from './server.ts';
import { bindToPod } from './pod-network.ts';
import { ContainerConfigError, containerEnv, expandVars, mountTable, processSpec, rewriteMountPaths } from './container-env.ts';

const pod = { metadata: { name: 'c-0', namespace: 'ns1', uid: 'u1', labels: { app: 'cairn' } }, spec: { nodeName: 'n1' }, status: { podIP: '127.0.4.2' } };
const src = {
  secret: (n: string) => (n === 's' ? { key: 'sekret', user: 'u' } : undefined),
  configMap: (n: string) => (n === 'cm' ? { LEVEL: 'debug' } : undefined),
};

test('$(VAR) expansion follows Kubernetes: defined replaced, $$ escapes, unknown kept', () => {
  assert.is(expandVars('$(A):9000', { A: '1.2.3.4' }), '1.2.3.4:9000');
  assert.is(expandVars('$$(A) $(B) $A $', { A: 'x' }), '$(A) $(B) $A $');
  assert.is(expandVars('$(A', { A: 'x' }), '$(A');
});

test('env: envFrom then env in order, fieldRef, secret/configMap refs, references to earlier vars', () => {
  const env = containerEnv(
    pod,
    {
      envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
      env: [
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'KEY', valueFrom: { secretKeyRef: { name: 's', key: 'key' } } },
        { name: 'ADDR', value: '$(POD_IP):9000' },
        { name: 'OPT', valueFrom: { secretKeyRef: { name: 'missing', key: 'k', optional: true } } },
      ],
    },
    src,
  );
  assert.equal(env, { CM_LEVEL: 'debug', POD_IP: '127.0.4.2', NAME: 'c-0', APP: 'cairn', KEY: 'sekret', ADDR: '127.0.4.2:9000' });
});

test('a missing secret or key is a CreateContainerConfigError', () => {
  assert.throws(
    () => containerEnv(pod, { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }, src),
    (e: Error) => e instanceof ContainerConfigError && /secret "nope" not found/.test(e.message),
  );
  assert.throws(() => containerEnv(pod, { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'nokey' } } }] }, src), /couldn't find key nokey/);
});

test('mount paths are rewritten at path boundaries only, longest first', () => {
  const mounts = mountTable(
    {
      volumeMounts: [
        { name: 'data', mountPath: '/data' },
        { name: 'cfg', mountPath: '/data/cfg/' },
        { name: 'sub', mountPath: '/x', subPath: 'a/b' },
      ],
    },
    { data: '/tmp/pvc/d', cfg: '/tmp/pods/cfg', sub: '/tmp/s' },
  );
  assert.is(rewriteMountPaths('/data', mounts), '/tmp/pvc/d');
  assert.is(rewriteMountPaths('--data=/data/chunks', mounts), '--data=/tmp/pvc/d/chunks');
  assert.is(rewriteMountPaths('/data/cfg/f.json', mounts), '/tmp/pods/cfg/f.json');
  assert.is(rewriteMountPaths('/database /x', mounts), '/database /tmp/s/a/b');
  assert.is(rewriteMountPaths('http://h/data', mounts), 'http://h/data');
  assert.throws(() => mountTable({ volumeMounts: [{ name: 'nope', mountPath: '/n' }] }, {}), /names no volume/);
});

test('cairn runs as this repo CLI under the current Node, with expanded args and rewritten paths', () => {
  const mounts = [{ mountPath: '/data', hostPath: '/tmp/pvc/d' }];
  const spec = processSpec(
    { name: 'c', command: ['cairn'], args: ['server', '--api', '$(POD_IP):9000', '--data', '/data'], env: [] },
    { POD_IP: '127.0.4.2', CAIRN_DATA: '/data' },
    mounts,
    '/repo',
    '/usr/bin/node24',
  );
  assert.is(spec.file, '/usr/bin/node24');
  assert.equal(spec.args, ['/repo/node-runtime/bin/cairn.js', 'server', '--api', '127.0.4.2:9000', '--data', '/tmp/pvc/d']);
  assert.is(spec.env.CAIRN_DATA, '/tmp/pvc/d');
  assert.is(
    processSpec({ name: 'c', command: ['cairn'] }, {}, [{ mountPath: '/tmp', hostPath: '/x/tmp' }], '/repo', '/n').env.TMPDIR,
    '/x/tmp',
    'a /tmp volume becomes TMPDIR',
  );
  assert.is(processSpec({ name: 'c', image: 'ghcr.io/x/cairn:1', args: ['server'] }, {}, [], '/repo', '/n').args[0], '/repo/node-runtime/bin/cairn.js');
  assert.is(processSpec({ name: 'c', command: ['node', '-e', '1'] }, {}, [], '/repo', '/n').file, '/n');
  assert.throws(() => processSpec({ name: 'c', image: 'nginx' }, {}, [], '/repo', '/n'), /no command/);
});

test('listens on all interfaces bind the pod IP; explicit hosts and sockets stay', () => {
  const ip = '127.0.9.2';
  const cb = () => {};
  assert.equal(bindToPod([9000], ip), [9000, ip]);
  assert.equal(bindToPod([9000, cb], ip), [9000, ip, cb]);
  assert.equal(bindToPod([9000, '0.0.0.0', cb], ip), [9000, ip, cb]);
  assert.equal(bindToPod([9000, '::', 511], ip), [9000, ip, 511]);
  assert.equal(bindToPod([9000, 511, cb], ip), [9000, ip, 511, cb]);
  assert.equal(bindToPod([9000, '127.0.0.1'], ip), [9000, '127.0.0.1']);
  assert.equal(bindToPod([], ip), [0, ip]);
  assert.equal(bindToPod([cb], ip), [0, ip, cb]);
  assert.equal(bindToPod([{ port: 80 }, cb], ip), [{ port: 80, host: ip }, cb]);
  assert.equal(bindToPod([{ port: 80, host: '10.1.1.1' }], ip), [{ port: 80, host: '10.1.1.1' }]);
  assert.equal(bindToPod([{ path: '/tmp/s' }], ip), [{ path: '/tmp/s' }]);
  assert.equal(bindToPod(['/tmp/sock'], ip), ['/tmp/sock']);
});

test('log tails count lines as kubectl logs --tail does', () => {
  assert.is(tailLines('a\nb\nc\n', 2), 'b\nc\n');
  assert.is(tailLines('a\nb\nc', 1), 'c');
  assert.is(tailLines('a\n', 5), 'a\n');
  assert.is(tailLines('a\nb\n', 0), '');
});

test.run();
