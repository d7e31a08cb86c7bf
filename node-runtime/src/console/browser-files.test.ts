// More of the file browser in Chromium against a real `cairn server`, the parts browser.test.ts
// does not walk: a folder upload keeps its tree, breadcrumbs lead back, a prefix search looks
// into the folders below; an upload in parts is
// paused (the parts in are kept) and resumed, another is cancelled (S3 holds no upload after it);
// an upload S3 refuses says why and succeeds on Retry once the cause is gone; download; rename
// with F2; the page stays put while a folder loads (no layout shift), fits a phone's width, and
// has a dark theme; a second user sees none of it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, Route } from 'playwright-core';
import { buildConsole } from '../../../console/build.ts';
import { launchBrowser, type TestBrowser } from '../../../hack/testing/browser.ts';
import { readSha256, s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { startConsoleOn, type ConsoleOnCairn } from '../../../hack/testing/console.ts';
import { waitFor } from '../../../hack/testing/net.ts';
import { createAdminClient } from '../admin/client.ts';

const secret = randomBytes(12).toString('hex');
const bob = { userId: 'bob', accessKeyId: 'AKBOB', secretAccessKey: 'bob-secret-key', displayName: 'Bob' };
let dir: string;
let proc: CairnProcess;
let c: ConsoleOnCairn;
let browser: TestBrowser;
let page: Page;
const problems: string[] = [];
const big = randomBytes(40 * 1024 * 1024); // five parts of 8 MiB

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-browser-files-'));
  await writeFile(join(dir, 'keys.json'), JSON.stringify([{ user: bob.userId, accessKeyId: bob.accessKeyId, secretAccessKey: bob.secretAccessKey }]));
  const [{ outDir }, p] = await Promise.all([
    buildConsole({ outDir: join(dir, 'dist') }),
    startCairnProcess({ secret, extraArgs: ['--keys-file', join(dir, 'keys.json')], env: { CAIRN_LOG_LEVEL: 'warn' } }),
  ]);
  proc = p;
  c = await startConsoleOn(proc, { assetsDir: outDir, users: [bob] });
  await mkdir(join(dir, 'trip', 'day-1'), { recursive: true });
  await writeFile(join(dir, 'trip', 'route.txt'), 'coast, then hills');
  await writeFile(join(dir, 'trip', 'day-1', 'log.txt'), 'rain');
  await writeFile(join(dir, 'paused.bin'), big);
  await writeFile(join(dir, 'cancelled.bin'), big);
  await writeFile(join(dir, 'refused.txt'), 'x'.repeat(4096));
  await s3Client(proc).makeBucket('files');
  browser = await launchBrowser();
  browser.context.setDefaultTimeout(20_000);
  page = await browser.context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${c.console.url}/signin`);
  await page.getByLabel('Access key ID').fill(proc.accessKey);
  await page.getByLabel('Secret access key').fill(proc.secretKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/buckets$/);
});

test.after(async () => {
  await browser?.close();
  await c?.console.close();
  await proc?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const row = (name: string) => page.locator('.row', { has: page.locator('.row-name', { hasText: new RegExp(`^${name.replace('.', '\\.')}$`) }) });
const uploadRow = (key: string) => page.locator(`.upload-row[data-key="${key}"]`);
const keysIn = async (bucket: string, prefix = '') => (await s3Client(proc).listObjectsV2Query(bucket, prefix, '', '', 1000, '')).objects.map((o) => o.name);

test('a folder upload keeps its tree; breadcrumbs lead back', async () => {
  await page.goto(`${c.console.url}/b/files/`);
  await page.getByText('This folder is empty').waitFor();
  await page.locator('[data-testid=upload-folder]').setInputFiles(join(dir, 'trip'));
  await page.locator('.uploads-title', { hasText: '2 uploads done' }).waitFor();
  assert.equal(await keysIn('files'), ['trip/day-1/log.txt', 'trip/route.txt']);
  await row('trip').locator('.row-name').click();
  await row('day-1').locator('.row-name').click();
  await row('log.txt').waitFor();
  const crumbs = page.getByRole('navigation', { name: 'Folder' });
  assert.is(await crumbs.locator('[aria-current=page]').innerText(), 'day-1');
  await crumbs.getByRole('link', { name: 'trip' }).click();
  await page.waitForURL(/\/b\/files\/trip\/$/);
  await row('route.txt').waitFor();
  await page.getByRole('button', { name: 'Clear' }).click();

  // Enter in the filter box searches by prefix, across the folders under this one.
  await page.getByRole('searchbox').fill('day');
  await page.getByRole('searchbox').press('Enter');
  await page.locator('.search-note', { hasText: 'Keys starting with “trip/day”' }).waitFor();
  await row('day-1/log.txt').waitFor();
  assert.equal(await page.locator('.row .row-name').allInnerTexts(), ['day-1/log.txt']);
  await page.getByRole('button', { name: 'Clear search' }).click();
  await row('route.txt').waitFor();
});

/** Holds part uploads at the network while `held` is set, and counts each part number sent. */
function partGate() {
  const sent = new Map<number, number>();
  let open: () => void = () => {};
  let gate = Promise.resolve();
  const state = { held: 0, sent };
  const handler = async (route: Route) => {
    const n = Number(new URL(route.request().url()).searchParams.get('partNumber'));
    sent.set(n, (sent.get(n) ?? 0) + 1);
    if (n > 1) {
      state.held++;
      await gate;
    }
    await route.continue().catch(() => {}); // an aborted request (pause, cancel) is gone already
  };
  return {
    state,
    handler,
    close() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    open: () => open(),
  };
}

test('an upload in parts: paused with part 1 in, resumed without sending it again; another cancelled leaves nothing in S3', async () => {
  const gate = partGate();
  gate.close();
  await page.route(/\/s3\/files\/.*partNumber=/, gate.handler);
  // Part 1 is "in" once S3 answered it (its ETag): a pause before that rightly sends it again.
  const part1Answered = page.waitForResponse((r) => /[?&]partNumber=1(&|$)/.test(r.url()) && r.request().method() === 'PUT' && r.ok());
  await page.locator('[data-testid=upload-files]').setInputFiles(join(dir, 'paused.bin'));
  const item = uploadRow('trip/paused.bin');
  await part1Answered;
  await waitFor(() => gate.state.sent.get(1) === 1 && gate.state.held > 0, { what: 'part 1 sent, later parts held' });
  await waitFor(async () => Number(await item.getByRole('progressbar').getAttribute('aria-valuenow')) >= 15, { what: 'part 1 counted' });
  await page.getByRole('button', { name: 'Pause paused.bin' }).click();
  await page.locator('.upload-row.paused[data-key="trip/paused.bin"]').waitFor();
  assert.is(await item.locator('.upload-state').innerText(), 'Paused');
  gate.open();
  await page.getByRole('button', { name: 'Resume paused.bin' }).click();
  await page.locator('.upload-row.done[data-key="trip/paused.bin"]').waitFor({ timeout: 60_000 });
  assert.is(gate.state.sent.get(1), 1, 'the finished part was kept, not sent again');
  assert.is(await readSha256(s3Client(proc), 'files', 'trip/paused.bin'), createHash('sha256').update(big).digest('hex'));

  gate.close();
  gate.state.held = 0;
  await page.locator('[data-testid=upload-files]').setInputFiles(join(dir, 'cancelled.bin'));
  await waitFor(() => gate.state.held > 0, { what: 'parts of cancelled.bin held' });
  const uploadsOf = async () => {
    const r = await s3Client(proc).listIncompleteUploadsQuery('files', 'trip/cancelled.bin', '', '', '');
    return r.uploads.length;
  };
  await waitFor(async () => (await uploadsOf()) === 1, { what: 'the multipart upload started' });
  await page.getByRole('button', { name: 'Cancel cancelled.bin' }).click();
  await uploadRow('trip/cancelled.bin').waitFor({ state: 'detached' });
  await waitFor(async () => (await uploadsOf()) === 0, { what: 'the multipart upload aborted' });
  gate.open();
  await page.unroute(/\/s3\/files\/.*partNumber=/, gate.handler);
  assert.not.ok((await keysIn('files', 'trip/')).includes('trip/cancelled.bin'));
  await row('paused.bin').waitFor();
  await waitFor(async () => !(await row('cancelled.bin').count()), { what: 'no row for the cancelled file' });
  await page.getByRole('button', { name: 'Clear' }).click();
});

test('an upload S3 refuses says why; Retry succeeds once the cause is gone', async () => {
  const admin = createAdminClient({ url: proc.cluster, secret });
  await admin.putBucket({ name: 'files', quotaBytes: 1024 });
  await page.locator('[data-testid=upload-files]').setInputFiles(join(dir, 'refused.txt'));
  const item = page.locator('.upload-row.failed[data-key="trip/refused.txt"]');
  await item.waitFor();
  assert.match(await item.locator('.upload-error').innerText(), /quota/i);
  await page.locator('.uploads-title', { hasText: '1 failed' }).waitFor();
  await admin.putBucket({ name: 'files', quotaBytes: 1024 * 1024 * 1024 });
  await page.getByRole('button', { name: 'Retry refused.txt' }).click();
  await page.locator('.upload-row.done[data-key="trip/refused.txt"]').waitFor();
  assert.ok((await keysIn('files', 'trip/')).includes('trip/refused.txt'));
  await page.getByRole('button', { name: 'Clear' }).click();
  // The refused PUT's 403 (quota) is the one error expected.
  problems.splice(0, problems.length, ...problems.filter((p) => !p.includes('403')));
});

test('download a file: its own name and bytes', async () => {
  await row('route.txt').locator('.row-check').click();
  const download = page.waitForEvent('download');
  await page.getByRole('toolbar', { name: 'Selection actions' }).getByRole('button', { name: 'Download' }).click();
  const d = await download;
  assert.is(d.suggestedFilename(), 'route.txt');
  assert.is(await readFile((await d.path())!, 'utf8'), 'coast, then hills');
});

test('rename with F2: the key moves in S3, the row follows', async () => {
  await page.locator('.list-body').focus();
  await page.keyboard.press('Escape');
  await row('route.txt').locator('.row-check').click();
  await page.locator('.list-body').focus();
  await page.keyboard.press('F2');
  const path = page.getByRole('dialog').getByLabel('Path in files');
  assert.is(await path.inputValue(), 'trip/route.txt');
  await path.fill('trip/itinerary.txt');
  await path.press('Enter');
  await row('itinerary.txt').waitFor();
  await row('route.txt').waitFor({ state: 'detached' });
  const keys = await keysIn('files', 'trip/');
  assert.ok(keys.includes('trip/itinerary.txt') && !keys.includes('trip/route.txt'), keys.join(', '));
});

test('a folder loads without layout shift', async () => {
  await page.goto(`${c.console.url}/b/files/trip/`);
  await row('itinerary.txt').waitFor();
  // Layout shifts since the navigation (Chromium's Layout Instability API), not caused by input.
  const shift = await page.evaluate<number>(`new Promise((resolve) => {
    let sum = 0;
    const add = (list) => { for (const e of list) if (!e.hadRecentInput) sum += e.value; };
    const o = new PerformanceObserver((l) => add(l.getEntries()));
    o.observe({ type: 'layout-shift', buffered: true });
    requestAnimationFrame(() => requestAnimationFrame(() => { add(o.takeRecords()); o.disconnect(); resolve(sum); }));
  })`);
  assert.ok(shift < 0.05, `cumulative layout shift ${shift}`);
});

test("a phone's width: nothing runs off the side; the dark theme is dark", async () => {
  const luminance = () =>
    page.evaluate<number>(`(() => {
      const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);
      return (r + g + b) / 3;
    })()`);
  assert.ok((await luminance()) > 200, 'light by default');
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.ok((await luminance()) < 60, 'dark when the system is');
  await page.emulateMedia({ colorScheme: 'light' });

  await page.setViewportSize({ width: 390, height: 780 });
  for (const path of ['/buckets', '/b/files/trip/']) {
    await page.goto(c.console.url + path);
    await page
      .locator(path === '/buckets' ? '.bucket-card' : '.row')
      .first()
      .waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    assert.ok(overflow <= 0, `${path} is ${overflow}px wider than the phone`);
  }
  await page.getByRole('button', { name: 'Upload files' }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'New folder' }).isVisible());
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.equal(problems, []);
});

test("a second user sees none of the first user's buckets, and S3 refuses him the folder", async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/signin$/);
  await page.getByLabel('Access key ID').fill(bob.accessKeyId);
  await page.getByLabel('Secret access key').fill(bob.secretAccessKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/buckets$/);
  await page.getByText('No buckets yet').waitFor();
  assert.is(await page.locator('.bucket-card').count(), 0);
  await page.goto(`${c.console.url}/b/files/trip/`);
  await page.locator('.banner.error', { hasText: 'Access denied' }).waitFor();
  assert.is(await page.locator('.row').count(), 0);
  // The refused listing's 403 is the one error expected.
  assert.ok(
    problems.every((p) => p.includes('403')),
    problems.join('\n'),
  );
});

test.run();
