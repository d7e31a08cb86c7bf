// s3rver (the npm S3 server, a devDependency) as the S3 peer: run as its own process, data in
// a temp dir, on a loopback port, with its fixed credentials S3RVER/S3RVER.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort } from '../../testing/net.ts';
import { answers, spawnChild, waitServing } from './proc.ts';
import type { RunningTarget } from './types.ts';

export async function startS3rver(dir: string, host: string): Promise<RunningTarget> {
  const pkg = createRequire(import.meta.url).resolve('s3rver/package.json');
  const bin = join(dirname(pkg), 'bin/s3rver.js');
  const port = await freePort(host);
  // Its ListObjectsV2 continuation tokens are DES-encrypted; OpenSSL 3 has DES only in the legacy provider.
  const child = spawnChild('s3rver', process.execPath, [
    '--openssl-legacy-provider',
    bin,
    '-d',
    dir,
    '-a',
    host,
    '-p',
    String(port),
    '--silent',
    '--no-vhost-buckets',
  ]);
  const endpoint = `http://${host}:${port}`;
  await waitServing(child, () => answers(endpoint + '/'), 20_000);
  return {
    spec: { name: 's3rver', kind: 's3', endpoints: [endpoint], bucket: 'bench', accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1' },
    pids: () => [child.pid],
    stop: () => child.stop(),
  };
}
