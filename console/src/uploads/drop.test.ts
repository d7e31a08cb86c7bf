// What a drop of files and folders becomes: each file with its path relative to the drop, so a
// dropped folder keeps its tree; a folder's entries are read in batches until none come (Chromium
// answers 100 at a time), so a folder of 250 files is not cut at 100. Fake entries stand in for the
// File System Entry API, which a test browser cannot produce for a synthetic drop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { droppedFiles } from './drop.ts';

type Tree = { [name: string]: Tree | string };

function entry(name: string, node: Tree | string): FileSystemEntry {
  if (typeof node === 'string') {
    const file = new File([node], name);
    return { name, isFile: true, isDirectory: false, file: (ok: (f: File) => void) => ok(file) } as unknown as FileSystemEntry;
  }
  const children = Object.entries(node).map(([n, c]) => entry(n, c));
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader: () => {
      let at = 0;
      return {
        readEntries: (ok: (batch: FileSystemEntry[]) => void) => {
          const batch = children.slice(at, at + 100);
          at += batch.length;
          ok(batch);
        },
      };
    },
  } as unknown as FileSystemEntry;
}

const drop = (top: Tree) =>
  ({
    items: Object.entries(top).map(([n, c]) => ({ kind: 'file', webkitGetAsEntry: () => entry(n, c) })),
    files: [],
  }) as unknown as DataTransfer;

test('a dropped folder keeps its tree under the drop; files beside it keep their names', async () => {
  const picked = await droppedFiles(drop({ trip: { 'route.txt': 'coast', 'day-1': { 'log.txt': 'rain' } }, 'notes.txt': 'n' }));
  assert.equal(
    picked.map((p) => p.path),
    ['trip/route.txt', 'trip/day-1/log.txt', 'notes.txt'],
  );
  assert.is(await picked[1].file.text(), 'rain');
});

test('a folder of 250 files is read whole, in batches', async () => {
  const many: Tree = {};
  for (let i = 0; i < 250; i++) many[`f${i}.txt`] = String(i);
  const picked = await droppedFiles(drop({ many }));
  assert.is(picked.length, 250);
  assert.is(picked[249].path, 'many/f249.txt');
});

test('without the entry API, the plain file list', async () => {
  const file = new File(['x'], 'plain.txt');
  const picked = await droppedFiles({ items: [{ kind: 'file' }], files: [file] } as unknown as DataTransfer);
  assert.equal(
    picked.map((p) => p.path),
    ['plain.txt'],
  );
});

test.run();
