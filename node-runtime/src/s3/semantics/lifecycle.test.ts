// Lifecycle documents with s3-tests' lifecycle cases (as boto3 serialises them) and S3's documented rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../../util/errors.ts';
import { parseLifecycleConfiguration, renderLifecycleConfiguration } from './lifecycle.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isS3Error(e)) return `${e.status} ${e.code}`;
    throw e;
  }
  return 'no error';
}

const doc = (...rules: string[]) => `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules.join('')}</LifecycleConfiguration>`;
const rule = (inner: string) => `<Rule>${inner}</Rule>`;
const legacy = (id: string, prefix: string, action: string, status = 'Enabled') =>
  rule(`${action}<ID>${id}</ID><Prefix>${prefix}</Prefix><Status>${status}</Status>`);
const days = (n: number) => `<Expiration><Days>${n}</Days></Expiration>`;
const parse = (body: string) => parseLifecycleConfiguration(body, () => 'generated-id');

test('legacy Prefix rules round-trip as given (test_lifecycle_set, test_lifecycle_get)', () => {
  const rules = parse(doc(legacy('test1/', 'test1/', days(31)), legacy('test2/', 'test2/', days(120), 'Disabled')));
  assert.equal(rules, [
    { id: 'test1/', status: 'Enabled', prefix: 'test1/', expiration: { days: 31 } },
    { id: 'test2/', status: 'Disabled', prefix: 'test2/', expiration: { days: 120 } },
  ]);
  const xml = renderLifecycleConfiguration(rules);
  assert.match(xml, '<Rule><ID>test1/</ID><Prefix>test1/</Prefix><Status>Enabled</Status><Expiration><Days>31</Days></Expiration></Rule>');
  assert.not.match(xml, '<Filter>');
  assert.equal(parse(xml), rules);
});

test('a rule without an ID gets one (test_lifecycle_get_no_id); IDs ≤ 255 and unique, else InvalidArgument', () => {
  const [r] = parse(doc(rule(`${days(31)}<Prefix>test1/</Prefix><Status>Enabled</Status>`)));
  assert.is(r.id, 'generated-id');
  assert.ok(parseLifecycleConfiguration(doc(rule(`${days(31)}<Prefix>a</Prefix><Status>Enabled</Status>`)))[0].id.length > 0);
  assert.is(
    code(() => parse(doc(legacy('a'.repeat(256), 'test1/', days(2))))),
    '400 InvalidArgument',
  ); // test_lifecycle_id_too_long
  assert.is(
    code(() => parse(doc(legacy('a'.repeat(255), 'test1/', days(2))))),
    'no error',
  );
  assert.is(
    code(() => parse(doc(legacy('rule1', 'test1/', days(1)), legacy('rule1', 'test2/', days(2))))),
    '400 InvalidArgument',
  ); // test_lifecycle_same_id
});

test('Status is Enabled or Disabled exactly (test_lifecycle_invalid_status); Days 0 is InvalidArgument (test_lifecycle_expiration_days0)', () => {
  for (const s of ['enabled', 'disabled', 'invalid'])
    assert.is(
      code(() => parse(doc(legacy('rule1', 'test1/', days(2), s)))),
      '400 MalformedXML',
    );
  assert.is(
    code(() => parse(doc(legacy('rule1', 'days0/', days(0))))),
    '400 InvalidArgument',
  );
  assert.is(
    code(() => parse(doc(legacy('rule1', 'x/', days(-1))))),
    '400 InvalidArgument',
  );
  assert.is(
    code(() => parse(doc(legacy('rule1', 'x/', '<Expiration><Days>one</Days></Expiration>')))),
    '400 MalformedXML',
  );
});

test('Expiration Date: midnight UTC in ISO 8601, else InvalidArgument (test_lifecycle_set_date, test_lifecycle_set_invalid_date)', () => {
  const [r] = parse(doc(legacy('rule1', 'test1/', '<Expiration><Date>2017-09-27T00:00:00Z</Date></Expiration>')));
  assert.is(r.expiration?.date, Date.parse('2017-09-27T00:00:00Z'));
  assert.match(renderLifecycleConfiguration([r]), '<Date>2017-09-27T00:00:00.000Z</Date>');
  assert.is(parse(doc(legacy('r', 'p', '<Expiration><Date>2017-09-27</Date></Expiration>')))[0].expiration?.date, Date.parse('2017-09-27T00:00:00Z'));
  // boto3 turns '20200101' into epoch seconds: 1970-08-22T19:01:41Z
  assert.is(
    code(() => parse(doc(legacy('rule1', 'test1/', '<Expiration><Date>1970-08-22T19:01:41Z</Date></Expiration>')))),
    '400 InvalidArgument',
  );
  assert.is(
    code(() => parse(doc(legacy('rule1', 'test1/', '<Expiration><Date>20200101</Date></Expiration>')))),
    '400 InvalidArgument',
  );
});

test('Filter forms: Prefix, empty, Tag, And, sizes; Prefix and Tag side by side act together (test_lifecycle_set_filter, _empty_filter, _expiration_tags1)', () => {
  const marker = '<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>';
  const [a] = parse(doc(rule(`${marker}<ID>rule1</ID><Filter><Prefix>foo</Prefix></Filter><Status>Enabled</Status>`)));
  assert.equal(a, { id: 'rule1', status: 'Enabled', filter: { prefix: 'foo' }, expiration: { expiredObjectDeleteMarker: true } });
  const [b] = parse(doc(rule(`${marker}<ID>rule1</ID><Filter></Filter><Status>Enabled</Status>`)));
  assert.equal(b.filter, {});
  assert.match(renderLifecycleConfiguration([b]), '<Filter></Filter>');
  const [c] = parse(
    doc(rule(`${days(1)}<ID>rule_tag1</ID><Filter><Prefix>days1/</Prefix><Tag><Key>tom</Key><Value>sawyer</Value></Tag></Filter><Status>Enabled</Status>`)),
  );
  assert.equal(c.filter, { prefix: 'days1/', tag: { key: 'tom', value: 'sawyer' } });
  const andXml = `${days(1)}<ID>rule1</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>key1</Key><Value>tag1</Value></Tag><Tag><Key>key5</Key><Value>tag6</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status>`;
  const [d] = parse(doc(rule(andXml)));
  assert.equal(d.filter, {
    and: {
      prefix: 'p/',
      tags: [
        { key: 'key1', value: 'tag1' },
        { key: 'key5', value: 'tag6' },
      ],
      sizeGreaterThan: 10,
    },
  });
  const distinct = [a, { ...b, id: 'rule2' }, c, { ...d, id: 'rule4' }];
  assert.equal(parse(renderLifecycleConfiguration(distinct)), distinct);
  const [e] = parse(
    doc(rule(`${days(1)}<ID>gt</ID><Filter><Prefix></Prefix><ObjectSizeGreaterThan>2000</ObjectSizeGreaterThan></Filter><Status>Enabled</Status>`)),
  );
  assert.equal(e.filter, { prefix: '', sizeGreaterThan: 2000 });
});

test('filter errors: both Prefix and Filter, neither, duplicate And tags, bad size bounds, tags with delete-marker or abort actions', () => {
  assert.is(
    code(() => parse(doc(rule(`${days(1)}<ID>r</ID><Prefix>a</Prefix><Filter/><Status>Enabled</Status>`)))),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parse(doc(rule(`${days(1)}<ID>r</ID><Status>Enabled</Status>`)))),
    '400 MalformedXML',
  );
  // And beside other predicates is accepted as one more of them (s3-tests' tags2), and rendered back whole.
  const [both] = parse(
    doc(
      rule(
        `${days(1)}<ID>r</ID><Filter><Prefix>a</Prefix><And><Prefix>b</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status>`,
      ),
    ),
  );
  assert.equal(both.filter, { prefix: 'a', and: { prefix: 'b', tags: [{ key: 'k', value: 'v' }] } });
  assert.equal(parse(renderLifecycleConfiguration([both]))[0].filter, both.filter);
  assert.is(
    code(() =>
      parse(
        doc(
          rule(
            `${days(1)}<ID>r</ID><Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter><Status>Enabled</Status>`,
          ),
        ),
      ),
    ),
    '400 InvalidArgument',
  );
  assert.is(
    code(() =>
      parse(
        doc(
          rule(
            `${days(1)}<ID>r</ID><Filter><And><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan><ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>`,
          ),
        ),
      ),
    ),
    '400 InvalidArgument',
  );
  assert.is(
    code(() => parse(doc(rule(`${days(1)}<ID>r</ID><Filter><ObjectSizeLessThan>0</ObjectSizeLessThan></Filter><Status>Enabled</Status>`)))),
    '400 InvalidArgument',
  );
  const tagFilter = '<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>';
  assert.is(
    code(() =>
      parse(doc(rule(`<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><ID>r</ID>${tagFilter}<Status>Enabled</Status>`))),
    ),
    '400 InvalidArgument',
  );
  assert.is(
    code(() =>
      parse(
        doc(
          rule(
            `<AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload><ID>r</ID>${tagFilter}<Status>Enabled</Status>`,
          ),
        ),
      ),
    ),
    '400 InvalidArgument',
  );
  assert.is(
    code(() => parse(doc(rule(`${days(1)}<ID>r</ID><Filter><Tag><Key>aws:x</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>`)))),
    '400 InvalidTag',
  );
});

test('actions: noncurrent expiration with NewerNoncurrentVersions, delete markers, aborts; none is InvalidRequest; Expiration needs exactly one form', () => {
  const [n] = parse(
    doc(
      rule(
        '<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>5</NewerNoncurrentVersions></NoncurrentVersionExpiration><ID>newer_noncurrent1</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>',
      ),
    ),
  );
  assert.equal(n.noncurrentVersionExpiration, { noncurrentDays: 1, newerNoncurrentVersions: 5 });
  const [m] = parse(
    doc(legacy('rule1', 'test1/', '<AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload>')),
  );
  assert.equal(m.abortIncompleteMultipartUpload, { daysAfterInitiation: 2 });
  const both = parse(
    doc(
      legacy(
        'rule1',
        'test1/',
        '<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>',
      ),
    ),
  );
  assert.equal(parse(renderLifecycleConfiguration(both)), both);
  assert.is(
    code(() => parse(doc(legacy('r', 'p', '')))),
    '400 InvalidRequest',
  );
  assert.is(
    code(() => parse(doc(legacy('r', 'p', '<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>')))),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parse(doc(legacy('r', 'p', '<Expiration></Expiration>')))),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parse(doc(legacy('r', 'p', '<NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>')))),
    '400 InvalidArgument',
  );
  assert.is(
    code(() =>
      parse(
        doc(
          legacy(
            'r',
            'p',
            '<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>',
          ),
        ),
      ),
    ),
    '400 InvalidArgument',
  );
});

test('transitions are NotImplemented, but a bad transition date is still a 400 (test_lifecycle_transition_set_invalid_date)', () => {
  assert.is(
    code(() => parse(doc(legacy('r', 'p', '<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>')))),
    '501 NotImplemented',
  );
  assert.is(
    code(() =>
      parse(
        doc(
          legacy(
            'r',
            'p',
            '<Expiration><Date>2023-09-27T00:00:00Z</Date></Expiration><Transition><Date>1970-08-23T19:01:41Z</Date><StorageClass>GLACIER</StorageClass></Transition>',
          ),
        ),
      ),
    ),
    '400 InvalidArgument',
  );
  assert.is(
    code(() =>
      parse(
        doc(
          legacy(
            'r',
            'p',
            '<NoncurrentVersionTransition><NoncurrentDays>2</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition>',
          ),
        ),
      ),
    ),
    '501 NotImplemented',
  );
});

test('document shape: empty, unknown elements, wrong root are MalformedXML', () => {
  assert.is(
    code(() => parse(doc())),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parse('<LifecycleConfiguration/>')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parse(doc(legacy('r', 'p', days(1) + '<Colour>red</Colour>')))),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parse('<BucketLifecycleConfiguration>' + legacy('r', 'p', days(1)) + '</BucketLifecycleConfiguration>')),
    '400 MalformedXML',
  );
  assert.is(
    code(() => parse(doc(legacy('r', 'p', days(1))).slice(0, -5))),
    '400 MalformedXML',
  );
});

test.run();
