// What the upload queue talks to: the console API (start, part URLs, complete, abort) and a
// transport that PUTs a body to a presigned URL with progress. Both are interfaces so the queue
// runs against fakes in tests; the browser's are in xhr.ts and ../api.ts.
import type { UploadPlan } from '../../../node-runtime/src/console/api.ts';

/** The part of a Blob the queue uses (a File in the browser, a fake in tests). */
export interface Blobish {
  readonly size: number;
  readonly type: string;
  slice(start: number, end: number): Blobish;
}

export interface UploadApi {
  start(bucket: string, key: string, size: number, contentType: string | undefined): Promise<UploadPlan>;
  partUrls(bucket: string, key: string, uploadId: string, partNumbers: number[]): Promise<string[]>;
  complete(bucket: string, key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void>;
  abort(bucket: string, key: string, uploadId: string): Promise<void>;
}

export interface Transport {
  put(url: string, body: Blobish, contentType: string | undefined, onProgress: (loaded: number) => void, signal: AbortSignal): Promise<{ etag: string }>;
}

/** A failed request: HTTP status (0 = no answer), S3 or console error code, a message for people. */
export class TransferError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'TransferError';
    this.status = status;
    this.code = code;
  }
}

/** At most `limit` holders; waiters leave the line when their signal aborts. */
export class Semaphore {
  private held = 0;
  private readonly waiters: { resolve: () => void; reject: (e: Error) => void; signal: AbortSignal; onAbort: () => void }[] = [];
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(new Error('aborted'));
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const w = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new Error('aborted'));
        },
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
      this.waiters.push(w);
    });
  }

  release(): void {
    const w = this.waiters.shift();
    if (w) {
      w.signal.removeEventListener('abort', w.onAbort);
      w.resolve(); // the slot passes straight to the waiter
    } else {
      this.held--;
    }
  }

  inUse(): number {
    return this.held;
  }
}
