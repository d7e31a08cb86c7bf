// The S3 file API: an express app, thin over the ObjectService (data/types.ts).
import express, { type Express } from 'express';
import type { ObjectService } from '../data/types.ts';

export interface S3Credentials { secretAccessKey: string; buckets?: string[] }   // buckets: undefined = all
export interface S3Deps {
  objects: ObjectService;
  region: string;
  credentials(accessKeyId: string): S3Credentials | undefined;
  isPublicRead(bucket: string): boolean;   // anonymous GET/HEAD allowed
}

export function createS3App(deps: S3Deps): Express {
  void deps;
  const app = express();
  app.use((_req, res) => {
    res.status(501).type('application/xml').send('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>not implemented yet</Message></Error>');
  });
  return app;
}
