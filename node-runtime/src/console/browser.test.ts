// The console in a real browser (Debian's Chromium through playwright-core) against a real
// `cairn server`: sign in, create a bucket and a folder, upload three files (one of 40 MiB, in
// parts, with progress that is seen to move) and one more by drag and drop, preview text, an image
// and a PDF, share a link and fetch it with plain HTTP, delete with the keyboard, search by tag,
// sign out. The page must log no error (a CSP violation would show up there).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildConsole } from '../../../console/build.ts';
import { launchBrowser, type TestBrowser } from '../../../hack/testing/browser.ts';
import { readSha256, s3Client, startCairnProcess, type CairnProcess } from '../../../hack/testing/cairn.ts';
import { startConsoleOn, type ConsoleOnCairn } from '../../../hack/testing/console.ts';
import { landscapePng, samplePdf } from '../../../hack/testing/samples.ts';
import { waitFor } from '../../../hack/testing/net.ts';

let dir: string;
let proc: CairnProcess;
let c: ConsoleOnCairn;
let browser: TestBrowser;
let page: Page;
const problems: string[] = [];
const clock = { skew: 0 };
const big = randomBytes(40 * 1024 * 1024);

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-browser-'));
  const [{ outDir }, p] = await Promise.all([buildConsole({ outDir: join(dir, 'dist') }), startCairnProcess({ env: { CAIRN_LOG_LEVEL: 'warn' } })]);
  proc = p;
  // The console's clock runs `skew` ahead of the browser's, so a test can end a session.
  c = await startConsoleOn(proc, { assetsDir: outDir, overrides: { now: () => Date.now() + clock.skew } });
  await writeFile(join(dir, 'notes.txt'), 'Packing list:\n- tent\n- stove\n');
  await writeFile(join(dir, 'beach.png'), landscapePng());
  await writeFile(join(dir, 'big.bin'), big);
  browser = await launchBrowser();
  browser.context.setDefaultTimeout(20_000);
  page = await browser.context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
});

test.after(async () => {
  await browser?.close();
  await c?.console.close();
  await proc?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const row = (name: string) => page.locator('.row', { has: page.locator('.row-name', { hasText: new RegExp(`^${name.replace('.', '\\.')}$`) }) });

test('sign in, then a bucket and a folder', async () => {
  await page.goto(`${c.console.url}/buckets`);
  await page.waitForURL(/\/signin\?next=%2Fbuckets$/);
  await page.getByLabel('Access key ID').fill(proc.accessKey);
  await page.getByLabel('Secret access key').fill('wrong-secret');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.form-error', { hasText: 'wrong' }).waitFor();
  problems.length = 0; // the refused sign-in's 401 is expected
  await page.getByLabel('Secret access key').fill(proc.secretKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/buckets$/);
  await page.getByRole('heading', { name: 'Buckets' }).waitFor();

  await page.getByRole('button', { name: 'New bucket' }).click();
  await page.getByLabel('Name').fill('photos');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('.bucket-card', { hasText: 'photos' }).click();
  await page.waitForURL(/\/b\/photos\/$/);

  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('Name').fill('holiday');
  await page.getByRole('button', { name: 'Create folder' }).click();
  await row('holiday').locator('.row-name').click();
  await page.waitForURL(/\/b\/photos\/holiday\/$/);
  await page.getByText('This folder is empty').waitFor();
});

test('upload three files, one of 40 MiB in parts, with progress seen to move; one more by drag and drop', async () => {
  // Record every value the total progress bar shows while the upload runs. (Page scripts are
  // strings: the Node type-check has no DOM types.)
  await page.evaluate(`
    window.progress = [];
    new MutationObserver(() => {
      const bar = document.querySelector('[aria-label="Total upload progress"]');
      if (bar) window.progress.push(Number(bar.getAttribute('aria-valuenow')));
    }).observe(document.body, { subtree: true, attributes: true, childList: true, attributeFilter: ['aria-valuenow'] });
  `);
  await page.locator('[data-testid=upload-files]').setInputFiles(['notes.txt', 'beach.png', 'big.bin'].map((f) => join(dir, f)));
  await page
    .locator('.uploads-title', { hasText: '3 uploads done' })
    .waitFor({ timeout: 60_000 })
    .catch(async (e) => {
      throw new Error(
        `${e.message}\nupload panel: ${await page
          .locator('.uploads')
          .innerText()
          .catch(() => '(none)')}\n${c.log.lines.map((l) => JSON.stringify(l)).join('\n')}\n${proc.output().slice(-3000)}`,
      );
    });
  const seen = await page.evaluate<number[]>('window.progress');
  assert.ok(
    seen.some((v) => v > 0 && v < 100),
    `progress between 0 and 100 was shown: ${seen.join(',')}`,
  );
  for (const name of ['notes.txt', 'beach.png', 'big.bin']) await row(name).waitFor();
  assert.is(await readSha256(s3Client(proc), 'photos', 'holiday/big.bin'), createHash('sha256').update(big).digest('hex'));

  await page.evaluate(`
    const data = new DataTransfer();
    data.items.add(new File(['dropped by a test'], 'dropped.txt', { type: 'text/plain' }));
    const target = document.querySelector('.browser');
    target.dispatchEvent(new DragEvent('dragenter', { bubbles: true, dataTransfer: data }));
    target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: data }));
  `);
  await row('dropped.txt').waitFor();
  await page.getByRole('button', { name: 'Clear' }).click();
});

test('preview text and an image', async () => {
  await row('notes.txt').locator('.row-name').click();
  await page.locator('.text-preview', { hasText: 'Packing list' }).waitFor();
  await page.keyboard.press('Escape');
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
  await row('beach.png').locator('.row-name').click();
  // (waitForFunction would eval a string in the page, which the console's CSP rightly refuses.)
  await waitFor(() => page.locator('.preview img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth === 320), {
    what: 'the image shown',
  });
  await page.getByRole('button', { name: 'Close' }).click();

  // A PDF shows in a frame of the console's origin (its response may be framed, nothing else is).
  await s3Client(proc).putObject('photos', 'holiday/itinerary.pdf', samplePdf(), undefined, { 'Content-Type': 'application/pdf' });
  await page.getByRole('button', { name: 'Refresh' }).click();
  const pdf = page.waitForResponse((r) => r.url().includes('/s3/photos/holiday/itinerary.pdf'));
  await row('itinerary.pdf').locator('.row-name').click();
  const res = await pdf;
  assert.is(res.status(), 200);
  assert.is(res.headers()['content-type'], 'application/pdf');
  assert.is(res.headers()['x-frame-options'], 'SAMEORIGIN');
  await page.locator('.preview iframe').waitFor();
  await page.getByRole('button', { name: 'Close' }).click();
});

test('share a link, see when it expires, fetch it with plain HTTP', async () => {
  await row('notes.txt').locator('.row-check').click();
  await page.getByRole('toolbar', { name: 'Selection actions' }).getByRole('button', { name: 'Share' }).click();
  await page.getByText('1 hour').click();
  const before = Date.now();
  await page.getByRole('button', { name: 'Create link' }).click();
  const url = await page.locator('#share-url').inputValue();
  const expiry = page.locator('.share-expiry');
  assert.match(await expiry.innerText(), /^Expires .* \(in (59 min|1 h)\)$/);
  const at = Date.parse((await expiry.getAttribute('data-expires-at'))!);
  assert.ok(Math.abs(at - (before + 3600_000)) < 10_000);
  const res = await fetch(url);
  assert.is(res.status, 200);
  assert.is(await res.text(), 'Packing list:\n- tent\n- stove\n');
  await page.keyboard.press('Escape');
  // The dialog closes on the console's next render, and then gives focus back to its opener (the
  // Share button): a key pressed before that would land in the dialog or the toolbar, not the list.
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
});

test('delete with the keyboard, confirmed', async () => {
  await page.locator('.list-body').focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowDown'); // beach.png, big.bin, dropped.txt, itinerary.pdf, notes.txt
  await page.keyboard.press('Delete');
  await page.getByRole('heading', { name: 'Delete “big.bin”?' }).waitFor();
  await page.keyboard.press('Tab'); // from Cancel to Delete
  await page.keyboard.press('Enter');
  await row('big.bin').waitFor({ state: 'detached' });
  const left = (await s3Client(proc).listObjectsV2Query('photos', 'holiday/', '', '', 100, '')).objects.map((o) => o.name);
  assert.equal(left, ['holiday/', 'holiday/beach.png', 'holiday/dropped.txt', 'holiday/itinerary.pdf', 'holiday/notes.txt']);
});

test('search by tag: only the object of this folder with that tag; bad input says why', async () => {
  const s3 = s3Client(proc);
  await s3.setObjectTagging('photos', 'holiday/notes.txt', { trip: 'coast', year: '2026' });
  await s3.setObjectTagging('photos', 'holiday/beach.png', { trip: 'hills' });
  await s3.putObject('photos', 'elsewhere.txt', Buffer.from('not in this folder'));
  await s3.setObjectTagging('photos', 'elsewhere.txt', { trip: 'coast' });
  await page.getByLabel('Search by', { exact: true }).selectOption('tag');
  // Every text the list's footer shows from here: the folder's rows must never pass for results.
  await page.evaluate(`
    window.footers = [];
    new MutationObserver(() => window.footers.push(document.querySelector('.list-foot')?.textContent ?? ''))
      .observe(document.querySelector('.list-wrap'), { subtree: true, childList: true, characterData: true });
  `);
  const box = page.getByRole('searchbox');
  await box.fill('trip=coast');
  await box.press('Enter');
  await page.locator('.search-note', { hasText: 'Objects tagged “trip=coast” in photos/holiday/ and its subfolders' }).waitFor();
  await page.locator('.list-foot', { hasText: /^1 found in 4 keys searched$/ }).waitFor();
  assert.equal(await page.locator('.row .row-name').allInnerTexts(), ['notes.txt']);
  const footers = await page.evaluate<string[]>('window.footers');
  assert.ok(
    footers.filter((f) => /found/.test(f)).every((f) => /^1 found in 4 keys searched$/.test(f)),
    footers.join(' | '),
  );

  await box.fill('=coast');
  await box.press('Enter');
  const alert = page.locator('.banner.error', { hasText: 'has no tag key' });
  await alert.waitFor();
  assert.is(await alert.getByRole('button', { name: 'Retry' }).count(), 0, 'bad input is not retried as it is');
  await box.fill('');
  await box.press('Enter');
  await page.locator('.banner.error', { hasText: 'Enter a tag to search for' }).waitFor();
  await page.getByRole('button', { name: 'Dismiss' }).click();

  await page.getByRole('button', { name: 'Clear search' }).click();
  await page.getByLabel('Search by', { exact: true }).selectOption('prefix');
  await row('dropped.txt').waitFor();
  assert.is(await page.locator('.banner.error').count(), 0);
  // The refused search's 400 is expected.
  problems.splice(0, problems.length, ...problems.filter((p) => !p.includes('400')));
});

test('an ended session asks for the secret again, and the page carries on', async () => {
  clock.skew = 2 * 3600_000;
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.getByRole('heading', { name: 'Your session ended' }).waitFor();
  assert.is(await page.getByLabel('Access key ID').inputValue(), proc.accessKey);
  await page.getByLabel('Secret access key').fill(proc.secretKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
  await row('notes.txt').waitFor();
  assert.match(page.url(), /\/b\/photos\/holiday\/$/);
  // The refused call's 401 is the one expected error.
  problems.splice(0, problems.length, ...problems.filter((p) => !p.includes('401')));
});

test('sign out: the session is gone', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/signin$/);
  await page.goto(`${c.console.url}/b/photos/holiday/`);
  await page.waitForURL(/\/signin\?next=/);
  assert.equal(problems, []);
});

test.run();
