// POST Object: a browser form upload into a bucket. The form (multipart/form-data, form-data.ts)
// is read as a stream: its fields, then the file, whose bytes go straight to the ObjectService as
// they arrive. The policy, its conditions and signature are semantics/post-policy.ts; the write is
// authorized as a PutObject of the form's signer (or of an anonymous caller, for a form without a
// policy), and its fields say what a PutObject's headers would: ACL, metadata, encryption, tags.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { s3Error } from '../util/errors.ts';
import { describeRequest } from '../observability/request-id.ts';
import { anonymousCaller, type Caller } from './auth.ts';
import { BodyChecksum } from './body-checksum.ts';
import { requestChecksum } from './semantics/checksums.ts';
import { refuseUnsupportedHeaders } from './unsupported-headers.ts';
import { policyContext, requireAccess } from './authz.ts';
import { boundaryOf, readFormUntilFile, type FormUntilFile } from './form-data.ts';
import { bucketOrThrow } from './object-access.ts';
import { withPayload, writeOptions } from './object.ts';
import { MAX_PUT_SIZE } from './payload.ts';
import { setHeaders } from './respond.ts';
import { checkPostSize, planPostUpload, postSuccessResponse, verifyPostSignature, type PostAuth, type PostUploadPlan } from './semantics/post-policy.ts';
import { formatTaggingHeader, parseTaggingXml } from './semantics/tagging.ts';
import { UNSIGNED_PAYLOAD } from './sigv4.ts';
import type { Handler, S3Context } from './types.ts';

// Fields that are the form's machinery, not the object's: never taken as headers of the write.
const MACHINERY = new Set([
  'key',
  'bucket',
  'policy',
  'signature',
  'awsaccesskeyid',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-algorithm',
  'x-amz-date',
  'x-amz-security-token',
  'success_action_status',
  'success_action_redirect',
  'redirect',
  'acl',
  'tagging',
  'file',
]);

/** The headers a PutObject would have sent for this form (lower-case names, as Node gives headers). */
export function writeHeadersOf(fields: Map<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of fields) {
    if (!MACHINERY.has(name) && !name.startsWith('x-ignore-')) headers[name] = value;
  }
  const acl = fields.get('acl');
  if (acl !== undefined) headers['x-amz-acl'] = acl;
  const tagging = fields.get('tagging');
  // The form sends a Tagging document; a PutObject sends its header form.
  if (tagging !== undefined) headers['x-amz-tagging'] = formatTaggingHeader(parseTaggingXml(tagging, 'object'));
  return headers;
}

/** Who signed the form: its key's user once the signature checks out; anonymous without a policy. */
function signerOf(ctx: S3Context, auth: PostAuth): Caller {
  if (auth.kind === 'anonymous') return anonymousCaller();
  const principal = ctx.deps.principal(auth.accessKeyId);
  if (!principal) throw s3Error('InvalidAccessKeyId');
  verifyPostSignature(auth, principal.secretAccessKey);
  return { accessKeyId: auth.accessKeyId, user: principal.userId, superuser: principal.superuser, payloadHash: UNSIGNED_PAYLOAD };
}

/**
 * Counts the file's bytes against the policy's content-length-range (and S3's largest PUT) as they
 * pass, and checks a checksum field (x-amz-checksum-*) against them at the end.
 */
class CheckedFile extends Transform {
  private seen = 0;
  private readonly plan: Pick<PostUploadPlan, 'size'>;
  private readonly checksum: BodyChecksum | undefined;

  constructor(plan: Pick<PostUploadPlan, 'size'>, checksum: BodyChecksum | undefined) {
    super();
    this.plan = plan;
    this.checksum = checksum;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    try {
      checkPostSize(this.plan, this.seen, false);
      if (this.seen > MAX_PUT_SIZE) throw s3Error('EntityTooLarge');
      this.checksum?.update(chunk);
    } catch (e) {
      return cb(e as Error);
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    try {
      checkPostSize(this.plan, this.seen, true);
      this.checksum?.finish();
    } catch (e) {
      return cb(e as Error);
    }
    cb();
  }
}

function checked(file: Readable, plan: Pick<PostUploadPlan, 'size'>, checksum: BodyChecksum | undefined): Readable {
  const out = new CheckedFile(plan, checksum);
  file.on('error', (e) => out.destroy(e));
  return file.pipe(out);
}

export const postObject: Handler = async (req, res, ctx) => {
  const bucket = ctx.route.bucket!;
  bucketOrThrow(ctx, bucket);
  const boundary = boundaryOf(typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : undefined);
  // The iterator must leave the request open when it stops: on success what follows the file is
  // drained here; on a refusal, giving the iterator back lets the error path drain the rest.
  const source = req.iterator({ destroyOnReturn: false });
  try {
    await store(req, res, ctx, bucket, await readFormUntilFile(source, boundary));
  } finally {
    await source.return?.();
  }
};

async function store(req: Parameters<Handler>[0], res: Parameters<Handler>[1], ctx: S3Context, bucket: string, form: FormUntilFile): Promise<void> {
  if (!form.file)
    throw s3Error('InvalidArgument', 'POST requires exactly one file upload per request.', { extra: { ArgumentName: 'file', ArgumentValue: '0' } });
  const plan = planPostUpload(form.fields, { bucket, filename: form.file.filename, now: Date.now() });
  if (Buffer.byteLength(plan.key) > 1024) throw s3Error('KeyTooLongError');
  const caller = signerOf(ctx, plan.auth);
  // The form's signer is the request's principal (its event record names it, not "anonymous").
  describeRequest({ operation: 'PostObject', principal: caller.accessKeyId, sourceIp: req.socket.remoteAddress });
  const headers = writeHeadersOf(plan.fields);
  // From here the request is the signer's PutObject of the form's key.
  const signed: S3Context = {
    ...ctx,
    caller,
    route: { ...ctx.route, key: plan.key },
    policyContext: policyContext({ headers, socket: req.socket }, ctx.route.query, caller.user, false),
  };
  requireAccess(signed, 'PostObject', { bucket, key: plan.key });
  refuseUnsupportedHeaders('PostObject', headers);
  const sent = requestChecksum(headers);
  const checksum = sent ? new BodyChecksum(sent) : undefined;
  const opts = { ...writeOptions(signed, headers, undefined, bucket), checksum: () => checksum?.stored() };
  const version = await withPayload({ body: checked(form.file.body, plan, checksum) }, (body) => ctx.deps.objects.putObject(bucket, plan.key, body, opts));
  if (!(await form.drain())) res.setHeader('Connection', 'close');
  const location = `http://${req.headers.host ?? 'localhost'}/${encodeURIComponent(bucket)}/${plan.key.split('/').map(encodeURIComponent).join('/')}`;
  const answer = postSuccessResponse(plan, { bucket, etag: version.etag, location });
  setHeaders(res.status(answer.status), { ...answer.headers, 'Content-Length': String(Buffer.byteLength(answer.body)) }).end(answer.body);
}
