// Keys, folders and app addresses (pure): names, parents, breadcrumbs, odd keys that round-trip
// through the address bar, name checks, and what can be previewed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { crumbs, folderPath, nameOf, nameProblem, parentOf, parseFolderPath, previewKind } from './paths.ts';

test('names and parents of keys and folders', () => {
  assert.is(nameOf('a/b/c.txt'), 'c.txt');
  assert.is(nameOf('a/b/'), 'b');
  assert.is(nameOf('top.txt'), 'top.txt');
  assert.is(parentOf('a/b/c.txt'), 'a/b/');
  assert.is(parentOf('a/b/'), 'a/');
  assert.is(parentOf('a/'), '');
  assert.equal(crumbs('a/b/'), [
    { name: 'a', prefix: 'a/' },
    { name: 'b', prefix: 'a/b/' },
  ]);
  assert.equal(crumbs(''), []);
});

test('folder addresses round-trip, odd names included', () => {
  for (const prefix of ['', 'a/', 'a b/ü/', 'x%2F/?#/', 'a//b/', '../']) {
    const path = folderPath('photos', prefix);
    assert.equal(parseFolderPath(path), { bucket: 'photos', prefix }, path);
  }
  assert.is(parseFolderPath('/buckets'), undefined);
  assert.is(parseFolderPath('/b/x/%E0%A4%A'), undefined);
});

test('names a user may give; what previews', () => {
  assert.is(nameProblem('ok name'), undefined);
  assert.ok(nameProblem(''));
  assert.ok(nameProblem('a/b'));
  assert.ok(nameProblem('..'));
  assert.ok(nameProblem('x'.repeat(256)));
  assert.is(previewKind('a/Photo.JPG'), 'image');
  assert.is(previewKind('doc.pdf'), 'pdf');
  assert.is(previewKind('logo.svg'), 'text', 'SVG is shown as text, never run');
  assert.is(previewKind('README'), 'text');
  assert.is(previewKind('movie.mkv'), undefined);
});

test.run();
