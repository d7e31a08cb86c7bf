// Shapes shared by the S3 layer: its dependencies and the per-request context handlers get.
import type { Request, Response } from 'express';
import type { ObjectService } from '../data/types.ts';
import type { NodeMetrics } from '../observability/metrics.ts';
import type { Caller, S3Credentials } from './auth.ts';
import type { Route } from './route.ts';

export type { S3Credentials };

export interface S3Deps {
  objects: ObjectService;                                   // from node-runtime/src/data/types.ts
  region: string;                                           // e.g. 'us-east-1'
  credentials(accessKeyId: string): S3Credentials | undefined;
  isPublicRead(bucket: string): boolean;                    // anonymous GET/HEAD allowed
  metrics?: NodeMetrics;                                    // the node's; none: requests are not counted
}

export interface S3Context {
  requestId: string;
  route: Route;
  caller: Caller;
  signal: AbortSignal;          // aborted when the client goes away before the response ends
  deps: S3Deps;
}

/** One S3 operation; it writes the whole response or throws (S3Error or anything else). */
export type Handler = (req: Request, res: Response, ctx: S3Context) => Promise<void>;

/** Bucket and key of an object request (the router guarantees both). */
export function target(ctx: S3Context): { bucket: string; key: string } {
  return { bucket: ctx.route.bucket!, key: ctx.route.key! };
}
