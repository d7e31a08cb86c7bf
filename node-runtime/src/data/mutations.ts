// What the coordinator of a write tells its mutation listener once the write is acknowledged: the
// hook events/ hangs the outbox on (DESIGN.md, "Every mutation is an event"). The data path knows
// which version it committed; who asked and from where is the request's business (events/ reads it
// from the request context).
import type { BucketSettings } from '../cluster/types.ts';
import type { ObjectVersion } from '../meta/records.ts';

export type MutationKind = 'Put' | 'Copy' | 'CompleteMultipartUpload' | 'Delete';

export interface AppliedMutation {
  kind: MutationKind;
  bucket: BucketSettings;
  /** The version this write committed at write quorum (a tombstone for a delete). */
  version: ObjectVersion;
}

/**
 * Called after the version reached its write quorum and before the client is answered, so a
 * durable listener (the outbox) holds the event of every write a client saw succeed. It must not
 * reject: a listener that cannot record logs and counts the loss itself.
 */
export type MutationListener = (m: AppliedMutation) => Promise<void>;
