// A member's identity: a random id created once and kept in its data dir (a PVC in Kubernetes), so a
// restarted or rescheduled process is the same member with the same data, not a new one.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The member id stored in `<dataDir>/node-id`, created on first start. */
export async function loadOrCreateNodeId(dataDir: string): Promise<string> {
  const path = join(dataDir, 'node-id');
  try {
    const id = (await readFile(path, 'utf8')).trim();
    if (!idPattern.test(id)) throw new Error(`${path} holds an invalid node id ${JSON.stringify(id.slice(0, 40))}; fix or remove it`);
    return id;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const id = randomUUID();
  await mkdir(dataDir, { recursive: true });
  const tmp = `${path}.tmp`;
  const fd = await open(tmp, 'w');
  try {
    await fd.writeFile(id + '\n');
    await fd.sync();
  } finally {
    await fd.close();
  }
  await rename(tmp, path);
  return id;
}
