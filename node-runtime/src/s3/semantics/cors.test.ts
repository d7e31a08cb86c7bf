// CORS documents and rule matching, with s3-tests' cors cases (test_set_cors, test_cors_origin_response,
// test_cors_origin_wildcard, test_cors_header_option, _test_cors_options_presigned_method).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../../util/errors.ts';
import { answerPreflight, corsResponseHeaders, parseCorsConfiguration, renderCorsConfiguration, type CorsRule } from './cors.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isS3Error(e)) return `${e.status} ${e.code}`;
    throw e;
  }
  return 'no error';
}

const rule = (methods: string[], origins: string[], extra = '') =>
  '<CORSRule>' +
  methods.map((m) => `<AllowedMethod>${m}</AllowedMethod>`).join('') +
  origins.map((o) => `<AllowedOrigin>${o}</AllowedOrigin>`).join('') +
  extra +
  '</CORSRule>';
const config = (...rules: string[]) => `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules.join('')}</CORSConfiguration>`;

test('parse/render round trip (test_set_cors): methods and origins in order, optional parts', () => {
  const rules = parseCorsConfiguration(config(rule(['GET', 'PUT'], ['*.get', '*.put'])));
  assert.equal(rules, [{ allowedOrigins: ['*.get', '*.put'], allowedMethods: ['GET', 'PUT'], allowedHeaders: [], exposeHeaders: [] }]);
  const full = config(
    rule(
      ['HEAD'],
      ['https://a.example'],
      '<ID>r1</ID><AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds>',
    ),
  );
  const parsed = parseCorsConfiguration(full);
  assert.equal(parsed[0], {
    id: 'r1',
    allowedOrigins: ['https://a.example'],
    allowedMethods: ['HEAD'],
    allowedHeaders: ['x-amz-*', 'Content-Type'],
    exposeHeaders: ['ETag'],
    maxAgeSeconds: 3000,
  });
  const xml = renderCorsConfiguration(parsed);
  assert.match(
    xml,
    '<CORSRule><ID>r1</ID><AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader><AllowedMethod>HEAD</AllowedMethod><AllowedOrigin>https://a.example</AllowedOrigin><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>',
  );
  assert.equal(parseCorsConfiguration(xml), parsed);
});

test('validation: unsupported method, two wildcards, wildcard ExposeHeader are InvalidRequest; shape is MalformedXML', () => {
  assert.is(
    code(() => parseCorsConfiguration(config(rule(['PATCH'], ['*'])))),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => parseCorsConfiguration(config(rule(['get'], ['*'])))),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => parseCorsConfiguration(config(rule(['GET'], ['*a*'])))),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => parseCorsConfiguration(config(rule(['GET'], ['*'], '<AllowedHeader>**</AllowedHeader>')))),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => parseCorsConfiguration(config(rule(['GET'], ['*'], '<ExposeHeader>x-*</ExposeHeader>')))),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => parseCorsConfiguration(config(rule(['GET'], ['*'], `<ID>${'i'.repeat(256)}</ID>`)))),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => parseCorsConfiguration(config(rule(['GET'], [])))),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseCorsConfiguration(config(rule([], ['*'])))),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseCorsConfiguration(config())),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseCorsConfiguration(config(rule(['GET'], ['*'], '<MaxAgeSeconds>-1</MaxAgeSeconds>')))),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseCorsConfiguration(config(rule(['GET'], ['*'], '<Colour>red</Colour>')))),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseCorsConfiguration(config(...Array.from({ length: 101 }, () => rule(['GET'], ['*']))))),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parseCorsConfiguration('<CORSConfiguration><CORSRule>')),
    '400 MalformedXML',
  );
});

// test_cors_origin_response's configuration
const rules: CorsRule[] = parseCorsConfiguration(
  config(rule(['GET'], ['*suffix']), rule(['GET'], ['start*end']), rule(['GET'], ['prefix*']), rule(['PUT'], ['*.put'])),
);
const actual = (origin: string | undefined, method = 'GET', requestMethod?: string) => {
  const h = corsResponseHeaders(rules, { origin, method, requestMethod });
  return [h['Access-Control-Allow-Origin'], h['Access-Control-Allow-Methods']];
};

test('actual requests: origin wildcards at either end or the middle, none otherwise (test_cors_origin_response)', () => {
  assert.equal(actual(undefined), [undefined, undefined]);
  assert.equal(actual('foo.suffix'), ['foo.suffix', 'GET']);
  assert.equal(actual('foo.bar'), [undefined, undefined]);
  assert.equal(actual('foo.suffix.get'), [undefined, undefined]);
  assert.equal(actual('startend'), ['startend', 'GET']);
  assert.equal(actual('start1end'), ['start1end', 'GET']);
  assert.equal(actual('start12end'), ['start12end', 'GET']);
  assert.equal(actual('0start12end'), [undefined, undefined]);
  assert.equal(actual('prefix'), ['prefix', 'GET']);
  assert.equal(actual('prefix.suffix'), ['prefix.suffix', 'GET']);
  assert.equal(actual('bla.prefix'), [undefined, undefined]);
});

test('actual requests: the method (or a sent Access-Control-Request-Method) must be allowed by the rule', () => {
  assert.equal(actual('foo.suffix', 'PUT', 'GET'), ['foo.suffix', 'GET']);
  assert.equal(actual('foo.suffix', 'PUT', 'PUT'), [undefined, undefined]);
  assert.equal(actual('foo.suffix', 'PUT', 'DELETE'), [undefined, undefined]);
  assert.equal(actual('foo.suffix', 'PUT'), [undefined, undefined]);
  assert.equal(actual('foo.put', 'PUT'), ['foo.put', 'PUT']);
  // Vary whenever the bucket has rules; nothing at all when it has none
  assert.is(corsResponseHeaders(rules, { origin: 'nomatch', method: 'GET' }).Vary, 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
  assert.is(corsResponseHeaders(rules, { method: 'GET' }).Vary, 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
  assert.equal(corsResponseHeaders(undefined, { origin: 'foo.suffix', method: 'GET' }), {});
});

const preflight = (origin?: string, requestMethod?: string, requestHeaders?: string, r: CorsRule[] | undefined = rules) => {
  try {
    const h = answerPreflight(r, { origin, requestMethod, requestHeaders });
    return [200, h['Access-Control-Allow-Origin'], h['Access-Control-Allow-Methods']];
  } catch (e) {
    if (isS3Error(e)) return [e.status, e.code];
    throw e;
  }
};

test('preflight: 400 without Origin or Access-Control-Request-Method, 403 when nothing matches, 200 with the rule (test_cors_origin_response)', () => {
  assert.equal(preflight(), [400, 'BadRequest']);
  assert.equal(preflight('foo.suffix'), [400, 'BadRequest']);
  assert.equal(preflight('foo.suffix', 'PATCH'), [400, 'BadRequest']);
  assert.equal(preflight('foo.suffix', 'GET'), [200, 'foo.suffix', 'GET']);
  assert.equal(preflight('foo.bar', 'GET'), [403, 'AccessForbidden']);
  assert.equal(preflight('foo.suffix.get', 'GET'), [403, 'AccessForbidden']);
  assert.equal(preflight('startend', 'GET'), [200, 'startend', 'GET']);
  assert.equal(preflight('start12end', 'GET'), [200, 'start12end', 'GET']);
  assert.equal(preflight('0start12end', 'GET'), [403, 'AccessForbidden']);
  assert.equal(preflight('prefix.suffix', 'GET'), [200, 'prefix.suffix', 'GET']);
  assert.equal(preflight('bla.prefix', 'GET'), [403, 'AccessForbidden']);
  assert.equal(preflight('foo.put', 'GET'), [403, 'AccessForbidden']);
  assert.equal(preflight('foo.put', 'PUT'), [200, 'foo.put', 'PUT']);
  // a bucket without rules: 400 still comes first (the presigned OPTIONS case), then 403
  assert.equal(preflight(undefined, undefined, undefined, undefined), [400, 'BadRequest']);
  assert.equal(preflight('example', 'GET', undefined, undefined), [403, 'AccessForbidden']);
});

test('preflight headers: requested headers must all be allowed (case-insensitive, wildcards); `*` origin answers `*` without credentials (test_cors_header_option, test_cors_origin_wildcard)', () => {
  const wild = parseCorsConfiguration(config(rule(['GET'], ['*'], '<ExposeHeader>x-amz-meta-header1</ExposeHeader>')));
  assert.equal(preflight('example.origin', 'GET', 'x-amz-meta-header2', wild), [403, 'AccessForbidden']);
  const h = answerPreflight(wild, { origin: 'example.origin', requestMethod: 'GET' });
  assert.is(h['Access-Control-Allow-Origin'], '*');
  assert.is(h['Access-Control-Allow-Credentials'], undefined);
  assert.is(h['Access-Control-Expose-Headers'], 'x-amz-meta-header1');
  assert.equal(corsResponseHeaders(wild, { origin: 'example.origin', method: 'GET' })['Access-Control-Allow-Origin'], '*');

  const headers = parseCorsConfiguration(
    config(
      rule(
        ['PUT', 'POST'],
        ['https://app.example'],
        '<AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>content-type</AllowedHeader><MaxAgeSeconds>600</MaxAgeSeconds>',
      ),
    ),
  );
  const ok = answerPreflight(headers, { origin: 'https://app.example', requestMethod: 'PUT', requestHeaders: 'Content-Type, X-Amz-Date,x-amz-meta-a' });
  assert.equal(ok, {
    'Access-Control-Allow-Origin': 'https://app.example',
    'Access-Control-Allow-Methods': 'PUT, POST',
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Max-Age': '600',
    'Access-Control-Allow-Headers': 'content-type, x-amz-date, x-amz-meta-a',
    Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  });
  assert.equal(preflight('https://app.example', 'PUT', 'authorization', headers), [403, 'AccessForbidden']);
});

test('first matching rule wins', () => {
  const two = parseCorsConfiguration(
    config(rule(['GET'], ['*'], '<MaxAgeSeconds>1</MaxAgeSeconds>'), rule(['GET'], ['https://a'], '<MaxAgeSeconds>2</MaxAgeSeconds>')),
  );
  assert.is(answerPreflight(two, { origin: 'https://a', requestMethod: 'GET' })['Access-Control-Max-Age'], '1');
});

test.run();
