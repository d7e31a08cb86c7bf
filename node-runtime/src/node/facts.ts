// Facts about a node's surroundings that only its orchestrator knows, handed over as files: the zone
// of the machine it runs on, and the size of the volume it stores on. In Kubernetes the operator
// keeps them in a ConfigMap that node pods mount (the kubelet refreshes the files when it changes),
// so a pod needs no API credentials and the node runtime knows nothing of Kubernetes.
import { readFile } from 'node:fs/promises';
import { parseZones } from '../cluster/zones.ts';
import { logger } from '../util/log.ts';

const log = logger('node');

/** What VolumeCapacity needs from the chunk store. */
export interface StoreSpace {
  capacityBytes(): Promise<number>;
  freeBytes(): Promise<number>;
  usedBytes(): number;
}

/**
 * A node's capacity is its volume's: the size the orchestrator gave the volume (a PVC's capacity,
 * kept current in `sizeFile` as the claim grows) or the file system's, whichever is smaller. Both,
 * because a claim on a provisioner that does not enforce sizes (local-path, hostPath, the local
 * control plane's directories) sits on a file system far larger than the claim, and a file system
 * can be smaller than the claim says (before its resize finished). The file is read at every call,
 * so a grown volume counts at the next heartbeat, without a restart.
 */
export class VolumeCapacity {
  readonly #store: StoreSpace;
  readonly #sizeFile?: string;
  #complained = '';

  constructor(store: StoreSpace, sizeFile?: string) {
    this.#store = store;
    this.#sizeFile = sizeFile;
  }

  /** The volume's size from the file; undefined without a file, or while it is absent or unreadable. */
  async volumeBytes(): Promise<number | undefined> {
    if (!this.#sizeFile) return undefined;
    let text: string;
    try {
      text = (await readFile(this.#sizeFile, 'utf8')).trim();
    } catch {
      return undefined;
    }
    const n = Number(text);
    if (Number.isSafeInteger(n) && n > 0) return n;
    if (this.#complained !== text)
      log.warn({ file: this.#sizeFile, content: text.slice(0, 40) }, 'volume size file does not hold a positive number of bytes; using the file system size');
    this.#complained = text;
    return undefined;
  }

  /**
   * 0 while a size file is given but not there yet: "unknown", not the file system's size, which for
   * an unenforced claim is the host's disk and would tell an autoscaler the cluster is nearly empty.
   */
  async capacityBytes(): Promise<number> {
    const [fs, volume] = await Promise.all([this.#store.capacityBytes(), this.volumeBytes()]);
    if (volume === undefined) return this.#sizeFile ? 0 : fs;
    return Math.min(fs, volume);
  }

  /** The volume's size and what is left of it, when a size is given (the disk monitor narrows the file system's to them). */
  async limits(): Promise<{ capacityBytes: number; freeBytes: number } | undefined> {
    const volume = await this.volumeBytes();
    return volume === undefined ? undefined : { capacityBytes: volume, freeBytes: Math.max(0, volume - this.#store.usedBytes()) };
  }

  /** Free space: the file system's, or what is left of the volume's size, whichever is smaller. */
  async freeBytes(): Promise<number> {
    const [fs, volume] = await Promise.all([this.#store.freeBytes(), this.volumeBytes()]);
    return volume === undefined ? fs : Math.min(fs, Math.max(0, volume - this.#store.usedBytes()));
  }
}

/**
 * The zone in `file` (its whole content, trimmed; empty means no zone), waiting up to `waitMs` for
 * the file to appear: a node pod can start before the operator wrote its machine's zone. Joining
 * without it would place data as if the node had no zone and move it again a moment later, so a
 * node that cannot learn its zone fails to start instead (the pod restarts and tries again).
 */
export async function readZoneFile(file: string, opts: { waitMs?: number; intervalMs?: number } = {}): Promise<string> {
  const deadline = Date.now() + (opts.waitMs ?? 60_000);
  for (let announced = false; ; announced = true) {
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read zone file ${file}: ${(e as Error).message}`);
    }
    if (text !== undefined) {
      let zones: string[];
      try {
        zones = parseZones(text);
      } catch (e) {
        throw new Error(`zone file ${file}: ${(e as Error).message}`);
      }
      if (zones.length > 1) throw new Error(`zone file ${file} names ${zones.length} zones; a node is in one`);
      return zones[0] ?? '';
    }
    if (Date.now() >= deadline)
      throw new Error(
        `zone file ${file} did not appear within ${Math.round((opts.waitMs ?? 60_000) / 1000)} s: the operator writes the zone of every Kubernetes node it knows`,
      );
    if (!announced) log.info({ file }, 'waiting for the zone of this machine');
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
  }
}
