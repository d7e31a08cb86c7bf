// TypeScript sources stripped of their types ahead of time. Node strips types as it loads a .ts file,
// with a WebAssembly compiler (amaro) that, once loaded, stays in the process: about 30 MiB of RSS
// per server, a sixth of what a node holds at rest (docs/performance.md). The image build runs this
// file (`node node-runtime/bin/stripped-sources.js`), which writes every source's stripped form
// under `stripped/`, named by the source's content hash; bin/cairn.js then loads each source from
// there through a module hook, so the compiler never loads. A source without its stripped form (a
// checkout without the build step, or a file edited since) loads as usual: a stale form is never run.
// Plain JavaScript on purpose: a .ts file here would load the compiler this avoids.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { registerHooks, stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository (or image) root: the directory above node-runtime/. */
export const appRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Where the stripped forms are: env CAIRN_STRIPPED_DIR, default `<root>/stripped`. */
export const strippedDir = (env = process.env) => env.CAIRN_STRIPPED_DIR || join(appRoot, 'stripped');
/** The source trees a process loads (tests are not). */
const trees = ['node-runtime/src', 'operator/src'];

/** The stripped form's path for source `file` (under `root`) with content `source`. */
export function strippedPath(dir, root, file, source) {
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 20);
  return join(dir, `${relative(root, file)}.${hash}.js`);
}

/** How the sources of this process were loaded: from their stripped form, or stripped at load. */
const stats = { ahead: 0, atLoad: 0 };

/** Load the app's .ts sources from their stripped forms where present. Does nothing without `dir`. */
export function useStrippedSources(dir = strippedDir(), root = appRoot) {
  try {
    if (!readdirSync(dir).length) return;
  } catch {
    return;
  }
  const base = pathToFileURL(root).href;
  // Read by the server's start-up log line (cli/main.ts); a global, as this file is not TypeScript.
  globalThis[Symbol.for('cairn.strippedSources')] = stats;
  registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith(base) || !url.endsWith('.ts')) return nextLoad(url, context);
      const file = fileURLToPath(url);
      const source = readFileSync(file, 'utf8');
      try {
        const stripped = readFileSync(strippedPath(dir, root, file, source), 'utf8');
        stats.ahead++;
        return { format: 'module', source: stripped, shortCircuit: true };
      } catch {
        stats.atLoad++;
        return nextLoad(url, context);
      }
    },
  });
}

/** Write the stripped form of every source under `trees` into `dir` (emptied first). Returns how many. */
export function stripSources(dir = strippedDir(), root = appRoot) {
  rmSync(dir, { recursive: true, force: true });
  let n = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) {
        const source = readFileSync(p, 'utf8');
        const out = strippedPath(dir, root, p, source);
        mkdirSync(dirname(out), { recursive: true });
        // 'strip' keeps every line and column where it was, so stack traces point into the sources.
        writeFileSync(out, stripTypeScriptTypes(source, { mode: 'strip' }));
        n++;
      }
    }
  };
  for (const t of trees) if (existsSync(join(root, t))) walk(join(root, t));
  return n;
}

if (import.meta.main) {
  process.removeAllListeners('warning'); // stripTypeScriptTypes is flagged experimental; the build says what it did instead
  const dir = strippedDir();
  console.log(`stripped ${stripSources(dir)} sources into ${dir}`);
}
