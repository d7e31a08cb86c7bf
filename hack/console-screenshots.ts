// Screenshots of the console's main screens for docs/console/, light and dark, desktop and phone,
// taken from a real local cluster (a root and three nodes on loopback) with sample files, one node
// killed for the cluster page so that it shows a repair running.
//
//   node hack/console-screenshots.ts [--out docs/console]
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { buildConsole } from '../console/build.ts';
import { createAdminClient } from '../node-runtime/src/admin/client.ts';
import { launchBrowser } from './testing/browser.ts';
import { s3Client, startCairnProcess, type CairnProcess } from './testing/cairn.ts';
import { startConsoleOn } from './testing/console.ts';
import { waitFor } from './testing/net.ts';
import { landscapePng, samplePdf } from './testing/samples.ts';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs/console' } } });
const out = resolve(values.out!);
const secret = randomBytes(12).toString('hex');
const common = {
  secret,
  accessKey: 'AKADMIN',
  secretKey: 'admin-secret-key',
  env: { CAIRN_FAILURE_TIMEOUT_MS: '1500', CAIRN_HEARTBEAT_MS: '200', CAIRN_LOG_LEVEL: 'warn' },
};
const procs: CairnProcess[] = [];
const work = await mkdtemp(join(tmpdir(), 'console-shots-'));

try {
  await mkdir(out, { recursive: true });
  const { outDir } = await buildConsole({ outDir: join(work, 'dist') });
  const root = await startCairnProcess({ ...common, roles: ['root'], name: 'root-0', zone: 'zone-a' });
  procs.push(root);
  procs.push(
    ...(await Promise.all(
      ['a', 'b', 'c'].map((z, i) => startCairnProcess({ ...common, roles: ['node'], name: `node-${i}`, zone: `zone-${z}`, roots: [root.cluster] })),
    )),
  );
  const admin = createAdminClient({ url: root.cluster, secret });
  await waitFor(async () => (await admin.status()).counts.active === 4, { timeoutMs: 15_000, what: 'members active' });
  await admin.putBucket({ name: 'photos', replicas: 2 });
  await admin.putBucket({ name: 'reports', replicas: 3, quotaBytes: 64 * 1024 * 1024 });
  await admin.putBucket({ name: 'backups', replicas: 2 });
  const s3 = s3Client(root);
  await s3.putObject('photos', 'holiday/', Buffer.alloc(0));
  await s3.putObject('photos', 'scans/', Buffer.alloc(0));
  await s3.putObject('photos', 'holiday/beach.png', landscapePng(960, 600));
  await s3.putObject('photos', 'holiday/hills.png', landscapePng(640, 400));
  await s3.putObject('photos', 'holiday/packing-list.txt', Buffer.from('Packing list\n\n- tent\n- stove\n- two maps\n- the good knife\n'));
  await s3.putObject('photos', 'holiday/itinerary.pdf', samplePdf(['Itinerary', '', 'Day 1: the coast', 'Day 2: the hills', 'Day 3: home']));
  await s3.setObjectTagging('photos', 'holiday/beach.png', { place: 'coast', year: '2026' });
  await s3.setObjectTagging('photos', 'holiday/itinerary.pdf', { place: 'coast' });
  await s3.setObjectTagging('photos', 'holiday/hills.png', { place: 'hills' });
  for (let i = 1; i <= 9; i++) await s3.putObject('photos', `holiday/IMG_20${String(i).padStart(2, '0')}.jpg`, randomBytes(180_000 + i * 37_000));
  await s3.putObject('reports', 'q3.pdf', samplePdf());
  for (let i = 0; i < 12; i++) await s3.putObject('backups', `db-${i}.dump`, randomBytes(600_000));
  await admin.putSettings!({ repairBandwidthBytes: 512 * 1024 });

  const c = await startConsoleOn(root, { clusterSecret: secret, assetsDir: outDir });
  await writeFile(join(work, 'video.mp4'), randomBytes(48 * 1024 * 1024));
  await writeFile(join(work, 'notes.txt'), 'notes');

  const shoot = async (theme: 'light' | 'dark', phone: boolean, screens: (page: Page, name: (s: string) => string) => Promise<void>) => {
    const b = await launchBrowser({ colorScheme: theme, viewport: phone ? { width: 390, height: 780 } : { width: 1280, height: 800 } });
    try {
      const page = await b.context.newPage();
      page.setDefaultTimeout(20_000);
      await screens(page, (s) => join(out, `${s}-${phone ? 'phone-' : ''}${theme}.png`));
    } finally {
      await b.close();
    }
  };

  const signIn = async (page: Page, shot?: string) => {
    await page.goto(`${c.console.url}/signin`);
    await page.getByLabel('Access key ID').fill(common.accessKey);
    await page.getByLabel('Secret access key').fill(common.secretKey);
    if (shot) await page.screenshot({ path: shot });
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/buckets$/);
    await page.locator('.bucket-card').first().waitFor();
  };

  for (const theme of ['light', 'dark'] as const) {
    await shoot(theme, false, async (page, name) => {
      await signIn(page, name('sign-in'));
      await page.screenshot({ path: name('buckets') });
      await page.goto(`${c.console.url}/b/photos/holiday/`);
      await page.locator('.row').first().waitFor();
      await page.locator('.row', { hasText: 'beach.png' }).locator('.row-check').click();
      await page.locator('.row', { hasText: 'hills.png' }).locator('.row-check').click();
      // An upload in flight, paused part-way, next to one that finished.
      await page.locator('[data-testid=upload-files]').setInputFiles([join(work, 'notes.txt'), join(work, 'video.mp4')]);
      const bar = page.locator('[aria-label="Upload of video.mp4"]');
      // Paused after some parts are in: a pause keeps finished parts (S3 cannot resume half a part).
      await waitFor(async () => Number(await bar.getAttribute('aria-valuenow')) >= 70, { timeoutMs: 30_000, intervalMs: 10, what: 'upload under way' });
      await page.getByRole('button', { name: 'Pause video.mp4' }).click();
      await page.locator('.upload-row.paused').waitFor();
      await page.waitForTimeout(400); // the progress bar's width transition, for the picture
      await page.locator('.list-body').focus();
      await page.screenshot({ path: name('files') });
      await page.getByRole('button', { name: 'Cancel video.mp4' }).click();
      await page.getByRole('button', { name: 'Clear' }).click();
      await page.locator('.row-name', { hasText: 'beach.png' }).click();
      await waitFor(() => page.locator('.preview img').evaluate((img) => (img as unknown as { complete: boolean }).complete));
      await page.screenshot({ path: name('preview') });
      await page.getByRole('dialog').getByRole('button', { name: 'Share' }).click();
      await page.getByRole('button', { name: 'Create link' }).click();
      await page.locator('#share-url').waitFor();
      await page.screenshot({ path: name('share') });
      await page.keyboard.press('Escape');
      await page.getByLabel('Search by', { exact: true }).selectOption('tag');
      await page.getByRole('searchbox').fill('place=coast');
      await page.getByRole('searchbox').press('Enter');
      await page.locator('.list-foot', { hasText: /found in .* searched$/ }).waitFor();
      await page.locator('.list-body').focus();
      await page.screenshot({ path: name('tag-search') });
    });
  }

  // The cluster page: a node down and the repair under way.
  await procs[3].kill();
  await waitFor(
    async () => {
      const s = await admin.status();
      return s.counts.down === 1 && s.repair.underReplicatedChunks > 0;
    },
    { timeoutMs: 30_000, what: 'repair under way' },
  );
  for (const theme of ['light', 'dark'] as const) {
    await shoot(theme, false, async (page, name) => {
      await signIn(page);
      await page.goto(`${c.console.url}/cluster`);
      await page.locator('tr[data-member="node-2"] .badge', { hasText: 'down' }).waitFor();
      await page.locator('ol.events li').first().waitFor();
      // The page scrolls inside .content, so fullPage would stop at the window: grow the window instead.
      const height = await page.locator('.content').evaluate((el) => el.scrollHeight + el.getBoundingClientRect().top);
      await page.setViewportSize({ width: 1280, height: Math.ceil(height) });
      await page.screenshot({ path: name('cluster') });
    });
    await shoot(theme, true, async (page, name) => {
      await signIn(page);
      await page.goto(`${c.console.url}/b/photos/holiday/`);
      await page.locator('.row').first().waitFor();
      await page.screenshot({ path: name('files') });
      await page.goto(`${c.console.url}/cluster`);
      await page.locator('.card').first().waitFor();
      await page.screenshot({ path: name('cluster') });
    });
  }
  await c.console.close();
  console.log(`screenshots in ${out}`);
} finally {
  await Promise.all(procs.map((p) => p.cleanup()));
  await rm(work, { recursive: true, force: true });
}
