// Bucket services through Kubernetes, end to end (full profile, `npm run e2e`): a StorageCluster that
// declares a webhook target (its bearer token from a Secret) runs pods that deliver a Bucket's events
// as its spec.notifications routes them; a Bucket with spec.replication.to copies its objects to
// another Bucket of the cluster, with that Bucket's credentials Secret, and says how far it got.
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../../hack/testing/net.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../../hack/testing/webhook.ts';
import type { EventMessage } from '../../../node-runtime/src/events/record.ts';
import { s3Client } from './cluster.ts';
import { startE2E, waitForCluster, type E2E } from './harness.ts';

const full = process.env.CAIRN_E2E === 'full' || process.env.npm_lifecycle_event === 'e2e';
const NS = 'services';
const BK = `/apis/storage.cairn.dev/v1alpha1/namespaces/${NS}/buckets`;
const TOKEN = 'hook-token-e2e';
let e: E2E;
let hook: WebhookReceiver<EventMessage>;

const bucket = (name: string, spec: Record<string, unknown>) =>
  e.apply({ apiVersion: 'storage.cairn.dev/v1alpha1', kind: 'Bucket', metadata: { name, namespace: NS }, spec: { clusterRef: { name: 'demo' }, ...spec } });
const ready = (name: string, check: (b: any) => boolean = () => true) =>
  waitFor(
    async () => {
      const b = await e.get(`${BK}/${name}`);
      return b?.status?.phase === 'Ready' && check(b) && b;
    },
    { what: `Bucket ${name} Ready`, timeoutMs: 60_000, intervalMs: 250 },
  );

if (full) {
  test.before(async () => {
    hook = await startWebhookReceiver<EventMessage>({ token: TOKEN });
    e = await startE2E();
    await e.startOperator('cairn-operator-0');
    await e.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await e.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hook', namespace: NS }, data: { token: Buffer.from(TOKEN).toString('base64') } });
    await e.apply({
      apiVersion: 'storage.cairn.dev/v1alpha1',
      kind: 'StorageCluster',
      metadata: { name: 'demo', namespace: NS },
      spec: {
        roots: { replicas: 1 },
        nodes: { replicas: 2, storage: { size: '1Gi' } },
        replication: { factor: 1 },
        notifications: { targets: [{ name: 'thumbs', webhook: { url: hook.url, bearerTokenSecretRef: { name: 'hook', key: 'token' } }, timeoutSeconds: 2 }] },
      },
    });
    await waitForCluster(e, NS, 'demo', (s) => s.status?.phase === 'Ready', 'Ready', 180_000);
  });

  test.after(async () => {
    await e?.stop();
    await hook?.stop();
  });

  test("the cluster's webhook target gets the events the Bucket routes to it, with the token from the Secret", async () => {
    await bucket('inbox', { notifications: [{ id: 'pdfs', target: 'thumbs', events: ['s3:ObjectCreated:*'], suffix: '.pdf' }] });
    await ready('inbox', (b) => b.status.notificationRules === 1);
    const s3 = await s3Client(e, NS, 'demo', 'inbox-credentials');
    await s3.send(new PutObjectCommand({ Bucket: 'inbox', Key: 'a.txt', Body: 'text' }));
    await s3.send(new PutObjectCommand({ Bucket: 'inbox', Key: 'a.pdf', Body: 'pdf' }));
    await waitFor(() => hook.received.some((m) => m.Key === 'inbox/a.pdf'), { what: 'the event on the webhook', timeoutMs: 30_000 });
    assert.equal(
      hook.received.map((m) => [m.Key, m.Records[0].s3.configurationId]),
      [['inbox/a.pdf', 'pdfs']],
    );
    assert.ok(hook.authorizations.every((a) => a === `Bearer ${TOKEN}`));
  });

  test('spec.replication.to another Bucket of the cluster (its credentials Secret): existing and new objects land there; status says caught up', async () => {
    await bucket('copy', {});
    await ready('copy');
    await bucket('source', {});
    await ready('source');
    const src = await s3Client(e, NS, 'demo', 'source-credentials');
    const before = randomBytes(3000);
    await src.send(new PutObjectCommand({ Bucket: 'source', Key: 'old.bin', Body: before }));
    await bucket('source', {
      replication: {
        to: { endpoint: `http://demo.${NS}.svc.cluster.local:9000`, bucket: 'copy', credentialsSecret: { name: 'copy-credentials' }, deletes: true },
      },
    });
    await src.send(new PutObjectCommand({ Bucket: 'source', Key: 'new.bin', Body: 'new' }));
    const dst = await s3Client(e, NS, 'demo', 'copy-credentials');
    const body = async (k: string) => Buffer.from(await (await dst.send(new GetObjectCommand({ Bucket: 'copy', Key: k }))).Body!.transformToByteArray());
    await waitFor(async () => (await body('old.bin')).equals(before) && (await body('new.bin')).toString() === 'new', {
      what: 'both objects in the copy',
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    const b = await ready('source', (x) => x.status.replicationTo?.backfill === 'done' && x.status.replicationTo.lagSeconds === 0);
    assert.equal([b.status.replicationTo.endpoint, b.status.replicationTo.bucket], [`http://demo.${NS}.svc.cluster.local:9000`, 'copy']);
  });
}

test.run();
