// The cluster page in a real browser over a real cluster (a root and three nodes on loopback): an
// admin sees every member active and full redundancy, then a node is killed and the page shows
// it down, the under-replicated chunks and the repair running, and then the count back at zero.
// A user who is not an admin has no cluster page.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildConsole } from '../../../console/build.ts';
import { createAdminClient } from '../admin/client.ts';
import { launchBrowser, type TestBrowser } from '../../../hack/testing/browser.ts';
import { s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { startConsoleOn, type ConsoleOnCairn } from '../../../hack/testing/console.ts';
import { waitFor } from '../../../hack/testing/net.ts';

const secret = randomBytes(12).toString('hex');
const common = {
  secret,
  accessKey: 'AKADMIN',
  secretKey: 'admin-secret-key',
  env: { CAIRN_FAILURE_TIMEOUT_MS: '1500', CAIRN_HEARTBEAT_MS: '200', CAIRN_LOG_LEVEL: 'warn' },
};
const viewer = { userId: 'viewer', accessKeyId: 'AKVIEWER', secretAccessKey: 'viewer-secret-key' };
let dir: string;
let root: CairnProcess;
let nodes: CairnProcess[] = [];
let c: ConsoleOnCairn;
let browser: TestBrowser;
let page: Page;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-cluster-'));
  const built = buildConsole({ outDir: join(dir, 'dist') });
  root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0' });
  nodes = await Promise.all(
    ['a', 'b', 'c'].map((z, i) => startCairnProcess({ ...common, roles: ['node'], name: `node-${i}`, zone: `zone-${z}`, roots: [root.cluster] })),
  );
  const admin = createAdminClient({ url: root.cluster, secret });
  await waitFor(async () => (await admin.status()).counts.active === 4, { timeoutMs: 15_000, what: 'members active' });
  await admin.putBucket({ name: 'media', replicas: 2 });
  // Slow repair down so that the page (polling every 2 s) has time to show it running: each of the
  // two survivors copies at this rate, and a pass that left work is followed by another within a
  // second, so at 2 MiB/s the ~8 MiB to copy were back in about 2 s — sometimes between two polls.
  await admin.putSettings!({ repairBandwidthBytes: 512 * 1024 });
  const s3 = s3Client(root);
  for (let i = 0; i < 24; i++) await s3.putObject('media', `clip-${i}.bin`, randomBytes(512 * 1024));
  // The viewer signs in with a key of its own (the directory is the console's; S3 never sees it).
  c = await startConsoleOn(root, { users: [viewer], clusterSecret: secret, assetsDir: (await built).outDir });
  browser = await launchBrowser();
  browser.context.setDefaultTimeout(20_000);
  page = await browser.context.newPage();
});

test.after(async () => {
  await browser?.close();
  await c?.console.close();
  await Promise.all([root, ...nodes].map((p) => p?.cleanup()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function signIn(accessKeyId: string, secretAccessKey: string, next: string) {
  await page.goto(`${c.console.url}/signin?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Access key ID').fill(accessKeyId);
  await page.getByLabel('Secret access key').fill(secretAccessKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(new RegExp(`${next}$`));
}

const card = (title: string) => page.locator('.card', { has: page.locator('.card-title', { hasText: title }) }).locator('.card-value');
const state = (member: string) => page.locator(`tr[data-member="${member}"] .badge`);

test('a user who is not an admin has no cluster page', async () => {
  await signIn(viewer.accessKeyId, viewer.secretAccessKey, '/buckets');
  assert.is(await page.getByRole('link', { name: 'Cluster' }).count(), 0);
  await page.goto(`${c.console.url}/cluster`);
  await page.getByText('The cluster page is for administrators.').waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/signin$/);
});

test('an admin sees a node go down and the repair bring redundancy back', async () => {
  await signIn(common.accessKey, common.secretKey, '/buckets');
  await page.getByRole('link', { name: 'Cluster' }).click();
  await page.waitForURL(/\/cluster$/);
  await card('Members').filter({ hasText: '4 active' }).waitFor();
  await card('Redundancy').filter({ hasText: 'Full' }).waitFor();
  for (const n of ['root-0', 'node-0', 'node-1', 'node-2']) assert.is(await state(n).innerText(), 'active');
  assert.is(await page.locator('tr[data-member="node-1"] td').nth(1).innerText(), 'zone-b');
  assert.ok((await page.locator('tr[data-bucket="media"]').count()) === 1);

  // Watch the redundancy card from here on: every value it shows is kept.
  await page.locator('.cards').evaluate((cards) => {
    const seen: string[] = [];
    (globalThis as unknown as { redundancy: string[] }).redundancy = seen;
    new (globalThis as unknown as { MutationObserver: new (f: () => void) => { observe(n: unknown, o: object): void } }).MutationObserver(() => {
      const v = cards.querySelectorAll('.card-value')[2]?.textContent ?? '';
      if (seen[seen.length - 1] !== v) seen.push(v);
    }).observe(cards, { subtree: true, childList: true, characterData: true });
  });
  await nodes[2].kill();
  await state('node-2').filter({ hasText: 'down' }).waitFor({ timeout: 20_000 });
  await card('Members').filter({ hasText: '3 active' }).waitFor();
  await page.locator('.card', { hasText: 'Members' }).locator('.card-detail', { hasText: '1 down' }).waitFor();
  // Recent events: the newest change first, from the cluster map (the same on every node).
  const first = page.locator('ol.events li').first();
  await first.filter({ hasText: 'node-2 went down' }).waitFor();
  assert.match((await first.locator('time').getAttribute('datetime')) ?? '', /^\d{4}-\d\d-\d\dT/);
  assert.ok((await page.locator('ol.events li[data-event="node-0"]', { hasText: 'is active' }).count()) === 1);
  await waitFor(async () => (await page.evaluate<string[]>('redundancy')).some((v) => /under-replicated/.test(v)), {
    timeoutMs: 30_000,
    what: 'under-replicated chunks shown',
  });
  await card('Redundancy').filter({ hasText: 'Full' }).waitFor({ timeout: 60_000 });
  await card('Repair').filter({ hasText: 'Idle' }).waitFor();
  const seen = await page.evaluate<string[]>('redundancy');
  assert.ok(
    seen.some((v) => /^[1-9][\d,]* under-replicated$/.test(v)),
    seen.join(' → '),
  );
});

test.run();
