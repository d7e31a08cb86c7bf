// Bucket CORS: the CORSConfiguration document (parse, validate, render) and the rule match that answers preflights and decorates actual responses.
//
// As S3 does: the first rule (in document order) whose AllowedOrigin, AllowedMethod and, for a
// preflight, every requested header match, wins. An AllowedOrigin or AllowedHeader may hold one
// `*`, matching any run of characters (`start*end` matches `startend`). Actual requests carry the
// CORS headers when a rule matches and nothing otherwise (the request itself is not refused); a
// preflight that matches nothing is 403 AccessForbidden. s3-tests (test_cors_origin_response)
// also expects an actual request's Access-Control-Request-Method, when sent, to stand in for
// its method in the match, and Access-Control-Allow-Methods to list the matched rule's methods.
import { S3Error, s3Error } from '../../util/errors.ts';
import { buildXml } from '../xml.ts';
import { children, onlyChildren, parseDocument, textOf, textsOf } from './document.ts';

export const CORS_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] as const;
export type CorsMethod = (typeof CORS_METHODS)[number];

export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: CorsMethod[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

export const MAX_CORS_RULES = 100;
export const MAX_CORS_DOCUMENT_BYTES = 64 * 1024;
const MAX_ID = 255;

const invalidRequest = (message: string) => s3Error('InvalidRequest', message);
const badRequest = (message: string) => new S3Error('BadRequest', 400, message);
const forbidden = (message: string) => new S3Error('AccessForbidden', 403, message);

/** GetBucketCors of a bucket without rules. */
export const noSuchCorsConfiguration = () => new S3Error('NoSuchCORSConfiguration', 404, 'The CORS configuration does not exist');

const isMethod = (m: string): m is CorsMethod => (CORS_METHODS as readonly string[]).includes(m);
const wildcards = (s: string) => s.split('*').length - 1;

/** PutBucketCors body → rules; MalformedXML for shape, InvalidRequest for values S3 refuses. */
export function parseCorsConfiguration(body: string): CorsRule[] {
  if (Buffer.byteLength(body) > MAX_CORS_DOCUMENT_BYTES) throw s3Error('MalformedXML', 'The CORS configuration is larger than 64 KB.');
  const root = parseDocument(body, 'CORSConfiguration', ['CORSRule', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader']);
  onlyChildren(root, ['CORSRule']);
  const rules = children(root, 'CORSRule');
  if (rules.length === 0) throw s3Error('MalformedXML');
  if (rules.length > MAX_CORS_RULES) throw s3Error('MalformedXML', `A CORS configuration can have at most ${MAX_CORS_RULES} rules.`);
  return rules.map((node) => {
    onlyChildren(node, ['ID', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds']);
    const rule: CorsRule = {
      allowedOrigins: textsOf(node, 'AllowedOrigin'),
      allowedMethods: [],
      allowedHeaders: textsOf(node, 'AllowedHeader'),
      exposeHeaders: textsOf(node, 'ExposeHeader'),
    };
    const methods = textsOf(node, 'AllowedMethod');
    if (rule.allowedOrigins.length === 0 || methods.length === 0) throw s3Error('MalformedXML');
    for (const m of methods) {
      if (!isMethod(m)) throw invalidRequest(`Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
      rule.allowedMethods.push(m);
    }
    for (const o of rule.allowedOrigins) {
      if (wildcards(o) > 1) throw invalidRequest(`AllowedOrigin "${o}" can not have more than one wildcard.`);
    }
    for (const h of rule.allowedHeaders) {
      if (wildcards(h) > 1) throw invalidRequest(`AllowedHeader "${h}" can not have more than one wildcard.`);
    }
    for (const h of rule.exposeHeaders) {
      if (h.includes('*')) throw invalidRequest(`ExposeHeader "${h}" contains wildcard. We currently do not support wildcard for ExposeHeader.`);
    }
    const id = textOf(node, 'ID');
    if (id !== undefined) {
      if (id.length > MAX_ID) throw invalidRequest(`The ID of a CORS rule must be at most ${MAX_ID} characters.`);
      rule.id = id;
    }
    const maxAge = textOf(node, 'MaxAgeSeconds');
    if (maxAge !== undefined) {
      if (!/^\d{1,10}$/.test(maxAge.trim())) throw s3Error('MalformedXML');
      rule.maxAgeSeconds = Number(maxAge.trim());
    }
    return rule;
  });
}

/** GetBucketCors answer, elements in the order of S3's schema. */
export function renderCorsConfiguration(rules: readonly CorsRule[]): string {
  return buildXml('CORSConfiguration', {
    CORSRule: rules.map((r) => ({
      ID: r.id,
      AllowedHeader: r.allowedHeaders,
      AllowedMethod: r.allowedMethods,
      AllowedOrigin: r.allowedOrigins,
      ExposeHeader: r.exposeHeaders,
      MaxAgeSeconds: r.maxAgeSeconds,
    })),
  });
}

/** `*` in a pattern matches any run of characters (one wildcard at most, by validation). */
function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

function matchOrigin(rule: CorsRule, origin: string): string | undefined {
  return rule.allowedOrigins.find((o) => wildcardMatch(o, origin));
}

// Header names are case-insensitive.
const headerAllowed = (rule: CorsRule, name: string) => rule.allowedHeaders.some((h) => wildcardMatch(h.toLowerCase(), name));

const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

function answer(rule: CorsRule, matched: string, origin: string): Record<string, string> {
  const out: Record<string, string> = {
    'Access-Control-Allow-Origin': matched === '*' ? '*' : origin,
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
    Vary: VARY,
  };
  // Credentials can only go with a named origin (browsers refuse them with `*`).
  if (matched !== '*') out['Access-Control-Allow-Credentials'] = 'true';
  if (rule.exposeHeaders.length) out['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) out['Access-Control-Max-Age'] = String(rule.maxAgeSeconds);
  return out;
}

/** What a preflight (OPTIONS) carries. */
export interface PreflightRequest {
  origin?: string;
  requestMethod?: string; // Access-Control-Request-Method
  requestHeaders?: string; // Access-Control-Request-Headers, comma-separated
}

/**
 * OPTIONS on a bucket or object: the headers of the 200 answer. Throws BadRequest (400) without
 * Origin or a valid Access-Control-Request-Method, AccessForbidden (403) when the bucket has no
 * rules (`rules` undefined) or none matches.
 */
export function answerPreflight(rules: readonly CorsRule[] | undefined, req: PreflightRequest): Record<string, string> {
  if (!req.origin) throw badRequest('Insufficient information. Origin request header needed.');
  if (!req.requestMethod) throw badRequest('Invalid Access-Control-Request-Method: null');
  if (!isMethod(req.requestMethod)) throw badRequest(`Invalid Access-Control-Request-Method: ${req.requestMethod}`);
  if (!rules) throw forbidden('CORSResponse: CORS is not enabled for this bucket.');
  const requested = (req.requestHeaders ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  for (const rule of rules) {
    const matched = matchOrigin(rule, req.origin);
    if (matched === undefined || !rule.allowedMethods.includes(req.requestMethod)) continue;
    if (!requested.every((h) => headerAllowed(rule, h))) continue;
    const out = answer(rule, matched, req.origin);
    if (requested.length) out['Access-Control-Allow-Headers'] = requested.join(', ');
    return out;
  }
  throw forbidden(
    'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, ' +
      "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
  );
}

/** What an actual (non-OPTIONS) request carries. */
export interface ActualRequest {
  origin?: string;
  method: string;
  requestMethod?: string; // Access-Control-Request-Method, if a client sent one
}

/**
 * Headers to add to any answer (success or error) of a bucket with rules. Without a match only
 * Vary is added, so caches keep answers to different origins apart.
 */
export function corsResponseHeaders(rules: readonly CorsRule[] | undefined, req: ActualRequest): Record<string, string> {
  if (!rules) return {};
  if (!req.origin) return { Vary: VARY };
  const method = req.requestMethod ?? req.method;
  for (const rule of rules) {
    const matched = matchOrigin(rule, req.origin);
    if (matched !== undefined && (rule.allowedMethods as string[]).includes(method)) return answer(rule, matched, req.origin);
  }
  return { Vary: VARY };
}
