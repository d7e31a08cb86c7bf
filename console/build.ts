// Builds the console's static assets: esbuild bundles src/main.tsx (preact) and src/styles.css into
// content-hashed files under dist/assets/, and writes dist/index.html pointing at them. Nothing is
// fetched at run time from anywhere else (no CDN, system fonts only), so the console works offline.
//
//   node console/build.ts [--out DIR] [--dev]      (npm run build:console)
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface BuildOptions {
  outDir?: string;
  minify?: boolean;
}

export async function buildConsole(opts: BuildOptions = {}): Promise<{ outDir: string; files: string[] }> {
  const outDir = opts.outDir ?? join(here, 'dist');
  const minify = opts.minify ?? true;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(join(outDir, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: { app: join(here, 'src/main.tsx'), styles: join(here, 'src/styles.css') },
    outdir: join(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify,
    sourcemap: minify ? false : 'linked',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    // The app never reads the environment; keep process.env out of the bundle.
    define: { 'process.env.NODE_ENV': JSON.stringify(minify ? 'production' : 'development') },
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => relative(join(outDir, 'assets'), p));
  const js = outputs.find((p) => /^app-.*\.js$/.test(p));
  const css = outputs.find((p) => /^styles-.*\.css$/.test(p));
  if (!js || !css) throw new Error(`esbuild produced no app bundle: ${outputs.join(', ')}`);
  const template = await readFile(join(here, 'src/index.html'), 'utf8');
  const html = template.replace('{{styles}}', `/assets/${css}`).replace('{{app}}', `/assets/${js}`);
  await writeFile(join(outDir, 'index.html'), html);
  await writeFile(join(outDir, 'assets', 'icon.svg'), await readFile(join(here, 'src/icon.svg')));
  return { outDir, files: ['index.html', ...outputs.map((o) => `assets/${o}`), 'assets/icon.svg'] };
}

if (process.argv[1] && basename(process.argv[1]) === 'build.ts' && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, dev: { type: 'boolean' } } });
  const { outDir, files } = await buildConsole({ outDir: values.out, minify: !values.dev });
  console.log(`console built into ${outDir}: ${files.join(', ')}`);
}
