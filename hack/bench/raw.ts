// The machine's own limits, measured in the same run as the servers: what a perfect store could
// reach on this disk and CPU. Sequential write of a large file ending with fsync; small files
// written and fsync'd one at a time; SHA-256 and MD5 over a buffer on one core.
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const MiB = 1024 * 1024;

/** MB/s (10^6 bytes/s) writing `bytes` in 1 MiB writes, then fsync, then close. */
export function diskSequentialWrite(dir: string, bytes: number): number {
  const buf = Buffer.allocUnsafe(MiB);
  randomFillSync(buf);
  const path = join(dir, `seq-${process.pid}-${Date.now()}`);
  const t0 = performance.now();
  const fd = openSync(path, 'w');
  try {
    for (let left = bytes; left > 0; left -= MiB) writeSync(fd, buf, 0, Math.min(MiB, left));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const s = (performance.now() - t0) / 1000;
  rmSync(path, { force: true });
  return bytes / s / 1e6;
}

/**
 * MB/s writing `bytes` as new 4 MiB files, each written whole, fsync'd and kept (a chunk store's
 * pattern: its data grows; the caller deletes `dir` after every run). On a VM that backs guest memory
 * lazily, page cache that grows into memory never touched before costs far more than a rewrite of
 * freed pages (which is what the sequential-write anchor measures): this is the ceiling for a store.
 */
export function diskNewChunkFiles(dir: string, bytes: number): number {
  const sub = join(dir, `chunks-${process.pid}-${Date.now()}`);
  mkdirSync(sub, { recursive: true });
  const buf = Buffer.allocUnsafe(4 * MiB);
  randomFillSync(buf);
  const t0 = performance.now();
  for (let i = 0, left = bytes; left > 0; i++, left -= buf.length) {
    const fd = openSync(join(sub, String(i)), 'w');
    try {
      writeSync(fd, buf, 0, Math.min(buf.length, left));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  return bytes / ((performance.now() - t0) / 1000) / 1e6;
}

/** Files/s writing 4 KiB files one at a time, each fsync'd before the next (and the directory at the end). */
export function diskSmallFiles(dir: string, opts: { maxFiles: number; maxMs: number }): number {
  const sub = join(dir, `small-${process.pid}-${Date.now()}`);
  mkdirSync(sub, { recursive: true });
  const buf = Buffer.allocUnsafe(4096);
  randomFillSync(buf);
  const t0 = performance.now();
  let n = 0;
  while (n < opts.maxFiles && performance.now() - t0 < opts.maxMs) {
    const fd = openSync(join(sub, String(n)), 'w');
    try {
      writeSync(fd, buf);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    n++;
  }
  const dfd = openSync(sub, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
  const s = (performance.now() - t0) / 1000;
  rmSync(sub, { recursive: true, force: true });
  return n / s;
}

/** MB/s of one hash over `bytes` fed in 1 MiB updates (what a chunk store does per chunk). */
export function hashThroughput(algorithm: 'sha256' | 'md5', bytes: number): number {
  const buf = Buffer.allocUnsafe(MiB);
  randomFillSync(buf);
  const t0 = performance.now();
  const h = createHash(algorithm);
  for (let left = bytes; left > 0; left -= MiB) h.update(left >= MiB ? buf : buf.subarray(0, left));
  h.digest();
  return bytes / ((performance.now() - t0) / 1000) / 1e6;
}
