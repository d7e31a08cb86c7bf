// Sign-out in a cluster: the console runs on every node behind one Service, so a session cookie is
// good on any node, and a sign-out on one must end it on all (the key record carries it, as it
// carries a disabled key). Real processes: one root and two nodes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createAdminClient } from '../admin/client.ts';
import { startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { ConsoleClient } from '../../test/console-testing.ts';

const secret = 'sign-out-test-secret';
const carol = { accessKeyId: 'CAROLSIGNOUTKEY', secretAccessKey: 'carol-sign-out-secret' };
const procs: CairnProcess[] = [];
const consoleOf = (p: CairnProcess) => `http://${p.host}:9001`;

test.before(async () => {
  const root = await startCairnProcess({ secret, roles: ['root'], name: 'root-0' });
  procs.push(root);
  procs.push(...(await Promise.all(['a', 'b'].map((n) => startCairnProcess({ secret, roles: ['node'], name: `node-${n}`, roots: [root.cluster] })))));
  const admin = createAdminClient({ url: root.cluster, secret });
  await waitFor(async () => (await admin.status()).counts.active === 3, { what: 'members active', timeoutMs: 15_000 });
  await admin.putUser!({ id: 'carol' });
  await admin.createKey({ user: 'carol', ...carol });
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.cleanup().catch(() => {})));
});

test('a sign-out on one node ends the session (and older ones of the key) on every node; a new sign-in works at once', async () => {
  const [, a, b] = procs as [CairnProcess, CairnProcess, CairnProcess];
  const older = new ConsoleClient(consoleOf(b));
  await waitFor(async () => (await older.raw('POST', '/api/session', carol)).status === 200, { what: "node b knows carol's key", timeoutMs: 15_000 });
  const onA = new ConsoleClient(consoleOf(a));
  await onA.signIn(carol.accessKeyId, carol.secretAccessKey);
  // The same cookie on node b, as a browser behind a Service sends it: every node derives the session key.
  const onB = Object.assign(new ConsoleClient(consoleOf(b)), { cookie: onA.cookie, csrf: onA.csrf });
  assert.is((await onB.raw('GET', '/api/session')).status, 200, 'the session works on node b');

  assert.is((await onA.raw('DELETE', '/api/session')).status, 204);
  assert.is((await Object.assign(new ConsoleClient(consoleOf(a)), { cookie: onB.cookie }).raw('GET', '/api/session')).status, 401, 'refused on node a at once');
  await waitFor(async () => (await onB.raw('GET', '/api/session')).status === 401, { what: 'the session refused on node b', timeoutMs: 10_000 });
  assert.is((await older.raw('GET', '/api/session')).status, 401, 'an older session of the key ends too');
  const later = new ConsoleClient(consoleOf(b));
  await later.signIn(carol.accessKeyId, carol.secretAccessKey);
  assert.is((await later.raw('GET', '/api/session')).status, 200, 'a new sign-in is not refused');
  assert.is((await later.raw('GET', '/api/buckets')).status, 200, 'and it acts');
});

test.run();
