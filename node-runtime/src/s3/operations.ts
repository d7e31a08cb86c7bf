// Which S3 operation a request is: method + path shape (service, bucket, object) + the query
// subresource. Anything we do not serve is NotImplemented, never a guess.
import { s3Error } from '../util/errors.ts';
import { createBucket, deleteBucket, deleteObjects, getBucketLocation, headBucket, listBuckets } from './bucket.ts';
import { listObjectsV1, listObjectsV2, listUploads } from './listing.ts';
import { getBucketVersioning, listObjectVersions, putBucketVersioning } from './versions.ts';
import { abortUpload, completeUpload, createUpload, listParts, uploadPart, uploadPartCopy } from './multipart.ts';
import { copyObject, deleteObject, getObject, headObject, putObject } from './object.ts';
import type { Route } from './route.ts';
import {
  getObjectLegalHold,
  getObjectLockConfiguration,
  getObjectRetention,
  putObjectLegalHold,
  putObjectLockConfiguration,
  putObjectRetention,
} from './object-lock.ts';
import { deleteBucketLifecycle, getBucketLifecycle, putBucketLifecycle } from './lifecycle.ts';
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from './object-tagging.ts';
import { corsPreflight, deleteBucketCors, getBucketCors, putBucketCors } from './bucket-cors.ts';
import { postObject } from './post-object.ts';
import { getObjectAttributes } from './object-attributes.ts';
import { deleteBucketTagging, getBucketTagging, putBucketTagging } from './bucket-tagging.ts';
import {
  deleteBucketEncryption,
  deleteBucketPolicy,
  deleteOwnershipControls,
  deletePublicAccessBlock,
  getBucketAcl,
  getBucketEncryption,
  getBucketPolicy,
  getBucketPolicyStatus,
  getObjectAcl,
  getOwnershipControls,
  getPublicAccessBlock,
  putBucketAcl,
  putBucketEncryption,
  putBucketPolicy,
  putObjectAcl,
  putOwnershipControls,
  putPublicAccessBlock,
} from './access-handlers.ts';
import type { Handler } from './types.ts';
import { getBucketNotification, putBucketNotification } from './notification.ts';
import { getBucketChanges } from './changes.ts';

export interface Operation {
  name: string;
  handler: Handler;
}

function op(name: string, handler: Handler): Operation {
  return { name, handler };
}

// Subresources that name operations we do not implement (bucket or object level).
const UNSUPPORTED = [
  'accelerate',
  'analytics',
  'intelligent-tiering',
  'inventory',
  'logging',
  'metadata-table',
  'metrics',
  'replication',
  'requestPayment',
  'restore',
  'select',
  'torrent',
  'website',
  'renameObject',
  'session',
];

// Object subresources: GET, PUT and DELETE of one document of a version each.
const OBJECT_CONFIG: Record<string, Partial<Record<string, Operation>>> = {
  tagging: {
    GET: op('GetObjectTagging', getObjectTagging),
    PUT: op('PutObjectTagging', putObjectTagging),
    DELETE: op('DeleteObjectTagging', deleteObjectTagging),
  },
  retention: { GET: op('GetObjectRetention', getObjectRetention), PUT: op('PutObjectRetention', putObjectRetention) },
  'legal-hold': { GET: op('GetObjectLegalHold', getObjectLegalHold), PUT: op('PutObjectLegalHold', putObjectLegalHold) },
};

// Bucket configuration subresources: GET, PUT and DELETE of one document each.
const BUCKET_CONFIG: Record<string, Partial<Record<string, Operation>>> = {
  acl: { GET: op('GetBucketAcl', getBucketAcl), PUT: op('PutBucketAcl', putBucketAcl) },
  policy: { GET: op('GetBucketPolicy', getBucketPolicy), PUT: op('PutBucketPolicy', putBucketPolicy), DELETE: op('DeleteBucketPolicy', deleteBucketPolicy) },
  policyStatus: { GET: op('GetBucketPolicyStatus', getBucketPolicyStatus) },
  publicAccessBlock: {
    GET: op('GetPublicAccessBlock', getPublicAccessBlock),
    PUT: op('PutPublicAccessBlock', putPublicAccessBlock),
    DELETE: op('DeletePublicAccessBlock', deletePublicAccessBlock),
  },
  ownershipControls: {
    GET: op('GetBucketOwnershipControls', getOwnershipControls),
    PUT: op('PutBucketOwnershipControls', putOwnershipControls),
    DELETE: op('DeleteBucketOwnershipControls', deleteOwnershipControls),
  },
  encryption: {
    GET: op('GetBucketEncryption', getBucketEncryption),
    PUT: op('PutBucketEncryption', putBucketEncryption),
    DELETE: op('DeleteBucketEncryption', deleteBucketEncryption),
  },
  lifecycle: {
    GET: op('GetBucketLifecycleConfiguration', getBucketLifecycle),
    PUT: op('PutBucketLifecycleConfiguration', putBucketLifecycle),
    DELETE: op('DeleteBucketLifecycle', deleteBucketLifecycle),
  },
  'object-lock': { GET: op('GetObjectLockConfiguration', getObjectLockConfiguration), PUT: op('PutObjectLockConfiguration', putObjectLockConfiguration) },
  notification: { GET: op('GetBucketNotificationConfiguration', getBucketNotification), PUT: op('PutBucketNotificationConfiguration', putBucketNotification) },
  cors: { GET: op('GetBucketCors', getBucketCors), PUT: op('PutBucketCors', putBucketCors), DELETE: op('DeleteBucketCors', deleteBucketCors) },
  tagging: {
    GET: op('GetBucketTagging', getBucketTagging),
    PUT: op('PutBucketTagging', putBucketTagging),
    DELETE: op('DeleteBucketTagging', deleteBucketTagging),
  },
};

// Object subresources that name nothing on a bucket.
const BUCKET_UNSUPPORTED = ['retention', 'legal-hold'];
// Bucket subresources that name nothing on an object.
const OBJECT_UNSUPPORTED = ['object-lock', 'lifecycle', 'versioning', 'versions', 'cors'];

function notImplemented(what: string): never {
  throw s3Error('NotImplemented', `${what} is not implemented.`);
}

export function selectOperation(method: string, route: Route, headers: Record<string, string | string[] | undefined>): Operation {
  const p = route.params;
  // A browser's preflight, on a bucket or an object, whatever else its URL says (a presigned one).
  if (method === 'OPTIONS') return op('CorsPreflight', corsPreflight);
  const unsupported = UNSUPPORTED.find((name) => p.has(name) && !(route.key === undefined && name in BUCKET_CONFIG));
  if (unsupported) notImplemented(`The ${unsupported} subresource`);
  // MFA delete is not implemented: a request that sends a device code must not be obeyed without it.
  if (headers['x-amz-mfa'] !== undefined) notImplemented('MFA delete (x-amz-mfa)');

  if (route.bucket === undefined) {
    if (method === 'GET') return op('ListBuckets', listBuckets);
    notImplemented(`${method} on the service`);
  }

  if (route.key === undefined) {
    const bucketUnsupported = BUCKET_UNSUPPORTED.find((name) => p.has(name));
    if (bucketUnsupported) notImplemented(`The bucket ${bucketUnsupported} subresource`);
    for (const [sub, byMethod] of Object.entries(BUCKET_CONFIG)) {
      if (!p.has(sub)) continue;
      const found = byMethod[method];
      if (found) return found;
      throw s3Error('MethodNotAllowed', `The specified method is not allowed against the ${sub} subresource.`);
    }
    switch (method) {
      case 'GET':
        if (p.has('location')) return op('GetBucketLocation', getBucketLocation);
        if (p.has('changes')) return op('GetBucketChanges', getBucketChanges);
        if (p.has('versioning')) return op('GetBucketVersioning', getBucketVersioning);
        if (p.has('versions')) return op('ListObjectVersions', listObjectVersions);
        if (p.has('uploads')) return op('ListMultipartUploads', listUploads);
        if (p.has('list-type')) {
          if (p.get('list-type') !== '2') throw s3Error('InvalidArgument', 'Invalid list-type');
          return op('ListObjectsV2', listObjectsV2);
        }
        return op('ListObjects', listObjectsV1);
      case 'HEAD':
        return op('HeadBucket', headBucket);
      case 'PUT':
        if (p.has('versioning')) return op('PutBucketVersioning', putBucketVersioning);
        return op('CreateBucket', createBucket);
      case 'DELETE':
        return op('DeleteBucket', deleteBucket);
      case 'POST':
        if (p.has('delete')) return op('DeleteObjects', deleteObjects);
        return op('PostObject', postObject);
    }
    notImplemented(`${method} on a bucket`);
  }

  if (Buffer.byteLength(route.key) > 1024) throw s3Error('KeyTooLongError');
  const objectUnsupported = OBJECT_UNSUPPORTED.find((name) => p.has(name));
  if (objectUnsupported) notImplemented(`The ${objectUnsupported} subresource of an object`);
  for (const [sub, byMethod] of Object.entries(OBJECT_CONFIG)) {
    if (!p.has(sub)) continue;
    const found = byMethod[method];
    if (found) return found;
    throw s3Error('MethodNotAllowed', `The specified method is not allowed against the ${sub} subresource.`);
  }
  if (p.has('acl')) {
    if (method === 'GET') return op('GetObjectAcl', getObjectAcl);
    if (method === 'PUT') return op('PutObjectAcl', putObjectAcl);
    throw s3Error('MethodNotAllowed', 'The specified method is not allowed against the acl subresource.');
  }
  switch (method) {
    case 'GET':
      if (p.has('uploadId')) return op('ListParts', listParts);
      if (p.has('attributes')) return op('GetObjectAttributes', getObjectAttributes);
      return op('GetObject', getObject);
    case 'HEAD':
      return op('HeadObject', headObject);
    case 'PUT':
      if (p.has('uploadId') || p.has('partNumber')) {
        return headers['x-amz-copy-source'] !== undefined ? op('UploadPartCopy', uploadPartCopy) : op('UploadPart', uploadPart);
      }
      if (headers['x-amz-copy-source'] !== undefined) return op('CopyObject', copyObject);
      return op('PutObject', putObject);
    case 'POST':
      if (p.has('uploads')) return op('CreateMultipartUpload', createUpload);
      if (p.has('uploadId')) return op('CompleteMultipartUpload', completeUpload);
      return notImplemented('POST on an object');
    case 'DELETE':
      if (p.has('uploadId')) return op('AbortMultipartUpload', abortUpload);
      return op('DeleteObject', deleteObject);
  }
  notImplemented(`${method} on an object`);
}
