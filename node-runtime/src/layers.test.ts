// The layers of the node runtime, checked: every import of a production module under
// node-runtime/src must point down the table below (or stay in its own folder). The import graph is
// read with the TypeScript compiler's own pre-processor (static, type-only, re-export, side-effect
// and dynamic imports alike); a failure names each offending import and the rule it breaks.
// docs/development.md draws the same table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * The layers from the bottom up. A module may import modules of its own folder and of any folder in
 * a lower layer; never one in a higher layer, nor another folder of its own layer (folders that
 * share a layer are siblings that must not know each other). Every folder of src must be listed:
 * a new folder is placed here on purpose, not by accident.
 */
export const layers: readonly { name: string; folders: readonly string[]; holds: string }[] = [
  { name: 'util', folders: ['util'], holds: 'errors, logging, background workers, small helpers: they know nothing of Cairn' },
  {
    name: 'authorization',
    folders: ['access'],
    holds: 'who may do what, as pure rules and the records they read: users and keys, ACLs, bucket policies; every layer above may store or ask them',
  },
  { name: 'observability', folders: ['observability'], holds: 'metrics, tracing, request ids, health endpoints: every layer above reports through them' },
  {
    name: 'transport',
    folders: ['rpc'],
    holds: 'internal RPC: client pools, the cluster secret, the wire error shape, a router for the routes of the layers above',
  },
  {
    name: 'membership',
    folders: ['cluster'],
    holds: 'the cluster map and bucket registry (CRDT), roots, the membership agent, placement: members, never replicas',
  },
  { name: 'storage', folders: ['chunks', 'meta'], holds: 'the chunk store and buffers, the metadata store and the records it keeps' },
  { name: 'data paths', folders: ['data'], holds: 'coordinators (write, read, listing, multipart) and the replicas of every member, local or remote' },
  {
    name: 'background data paths',
    folders: ['repair', 'events'],
    holds: "repair, rebalancing, drain, scrub, GC workers; the change feed and its deliveries: they use the data paths' pieces",
  },
  { name: 'api', folders: ['s3', 'admin'], holds: 'the S3 API and the admin API, thin over the data paths and the cluster' },
  { name: 'console', folders: ['console'], holds: 'the web console: sessions, its JSON API and static assets; it acts only through S3 as the signed-in user' },
  { name: 'composition root', folders: ['node'], holds: 'the wiring of one process: options, membership, self-healing, ports' },
  { name: 'command line', folders: ['cli'], holds: 'the `cairn` command: flags in, a node or an admin call out' },
];

const src = dirname(new URL(import.meta.url).pathname);
const rankOf = new Map(layers.flatMap((l, i) => l.folders.map((f) => [f, i] as const)));

export interface Edge {
  from: string;
  to: string;
} // paths relative to src, '/'-separated

/** Every import of every production module (not tests) under `dir`, as paths relative to src. */
export function importGraph(dir = src): Edge[] {
  const edges: Edge[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
      const from = relative(src, path).split(sep).join('/');
      for (const f of ts.preProcessFile(readFileSync(path, 'utf8'), true, true).importedFiles) {
        if (!f.fileName.startsWith('.')) continue; // packages and node: builtins
        edges.push({
          from,
          to: relative(src, resolve(dirname(path), f.fileName))
            .split(sep)
            .join('/'),
        });
      }
    }
  };
  walk(dir);
  return edges;
}

/** The edges that break the table, each with the rule it breaks (pure: the tests below feed it made-up graphs). */
export function violations(edges: Edge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const a = from.split('/')[0]!,
      b = to.split('/')[0]!;
    if (to.startsWith('..')) {
      out.push(`${from} imports ${to}: production code may not reach outside node-runtime/src (tests and tools are not in the image)`);
      continue;
    }
    const ra = rankOf.get(a),
      rb = rankOf.get(b);
    if (!from.includes('/')) {
      out.push(`${from} is in no layer: move it into a layer's folder`);
      continue;
    }
    if (ra === undefined) {
      out.push(`${a}/ is in no layer: add it to the table in layers.test.ts`);
      continue;
    }
    if (rb === undefined) {
      out.push(`${b}/ is in no layer: add it to the table in layers.test.ts`);
      continue;
    }
    if (a === b) continue;
    if (rb > ra) out.push(`${from} imports ${to}: ${a}/ (${layers[ra]!.name}) may not import ${b}/ (${layers[rb]!.name}, a higher layer)`);
    else if (rb === ra) out.push(`${from} imports ${to}: ${a}/ and ${b}/ share the ${layers[ra]!.name} layer and must not know each other`);
  }
  return [...new Set(out)];
}

test('every import of node-runtime/src points down the layer table', () => {
  const edges = importGraph();
  assert.ok(edges.length > 200, `the import graph was read (${edges.length} imports)`);
  const bad = violations(edges);
  assert.ok(bad.length === 0, `imports against the layer order:\n  ${bad.join('\n  ')}`);
});

test('every folder of src has a place in the table', () => {
  const folders = readdirSync(src).filter((n) => statSync(join(src, n)).isDirectory());
  const unplaced = folders.filter((f) => !rankOf.has(f));
  assert.equal(unplaced, [], `folders without a layer: ${unplaced.join(', ')}`);
});

test('the check names an upward import, a sibling import and an import out of src', () => {
  const bad = violations([
    { from: 'cluster/view.ts', to: 'rpc/client.ts' }, // down: fine
    { from: 'data/objects.ts', to: 'data/names.ts' }, // own folder: fine
    { from: 'cluster/view.ts', to: 'data/replicas.ts' }, // up
    { from: 'meta/store.ts', to: 'chunks/store.ts' }, // sibling
    { from: 's3/app.ts', to: '../test/s3-client.ts' }, // out of src
    { from: 'ghost/x.ts', to: 'util/log.ts' }, // unplaced folder
  ]);
  assert.equal(bad, [
    'cluster/view.ts imports data/replicas.ts: cluster/ (membership) may not import data/ (data paths, a higher layer)',
    'meta/store.ts imports chunks/store.ts: meta/ and chunks/ share the storage layer and must not know each other',
    's3/app.ts imports ../test/s3-client.ts: production code may not reach outside node-runtime/src (tests and tools are not in the image)',
    'ghost/ is in no layer: add it to the table in layers.test.ts',
  ]);
});

test.run();
