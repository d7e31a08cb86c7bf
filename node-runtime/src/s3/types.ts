// Shapes shared by the S3 layer: its dependencies and the per-request context handlers get.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type { ObjectService } from '../data/types.ts';
import type { NodeMetrics } from '../observability/metrics.ts';
import type { UserDirectory } from '../access/acl.ts';
import type { Principal } from '../access/users.ts';
import type { BucketSettings } from '../cluster/types.ts';
import type { Caller } from './auth.ts';
import type { Route } from './route.ts';
import type { DeclaredTargets } from '../events/notification-config.ts';

/** The users a request may name (grants, owners) and how they are shown. */
export interface Users extends UserDirectory {
  displayName(id: string): string;
}

export interface S3Deps {
  objects: ObjectService; // from node-runtime/src/data/types.ts
  region: string; // e.g. 'us-east-1'
  /** Who an access key is; undefined when it, or its user, is unknown or disabled. */
  principal(accessKeyId: string): Principal | undefined;
  users(): Users;
  /** The bucket registry's entry (owner, ACL, policy, ...) and its writes. */
  bucket(name: string): BucketSettings | undefined;
  putBucket(settings: BucketSettings): Promise<void>;
  /** The cluster master key (SSE-S3 data keys are wrapped under a key derived from it). */
  masterKey: Buffer;
  metrics?: NodeMetrics; // the node's; none: requests are not counted
  /** The notification targets declared on the cluster (PutBucketNotificationConfiguration checks ARNs against them). */
  notificationTargets?: DeclaredTargets;
  /** The bucket's change feed, merged over every member (events/cluster-feed.ts); absent: not served. */
  changeFeed?: (req: IncomingMessage, res: ServerResponse, bucket: string, q: { prefix: string; cursor?: string }) => Promise<void>;
}

export interface S3Context {
  requestId: string;
  route: Route;
  caller: Caller;
  signal: AbortSignal; // aborted when the client goes away before the response ends
  deps: S3Deps;
  /** The request's policy condition keys (s3/authz.ts). */
  policyContext: Record<string, string[] | undefined>;
}

/** One S3 operation; it writes the whole response or throws (S3Error or anything else). */
export type Handler = (req: Request, res: Response, ctx: S3Context) => Promise<void>;

/** Bucket and key of an object request (the router guarantees both). */
export function target(ctx: S3Context): { bucket: string; key: string } {
  return { bucket: ctx.route.bucket!, key: ctx.route.key! };
}
