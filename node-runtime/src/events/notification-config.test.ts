import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isS3Error } from '../util/errors.ts';
import { targetArn, parseTargetArn } from './arn.ts';
import {
  eventMatches,
  outboxEvent,
  parseNotificationConfiguration,
  renderNotificationConfiguration,
  routesFor,
  type DeclaredTargets,
} from './notification-config.ts';

const declared: DeclaredTargets = {
  targets: new Map([
    ['jobs', 'redis'],
    ['hooks', 'webhook'],
  ]),
  region: 'us-east-1',
};
const ids = () => {
  let n = 0;
  return () => `gen-${++n}`;
};
const doc = (inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</NotificationConfiguration>`;
const queue = (arn: string, events: string[], filter = '', id = '') =>
  `<QueueConfiguration>${id ? `<Id>${id}</Id>` : ''}<Queue>${arn}</Queue>${events.map((e) => `<Event>${e}</Event>`).join('')}${filter}</QueueConfiguration>`;
const keyFilter = (...rules: [string, string][]) =>
  `<Filter><S3Key>${rules.map(([n, v]) => `<FilterRule><Name>${n}</Name><Value>${v}</Value></FilterRule>`).join('')}</S3Key></Filter>`;

function refused(body: string, code: string, message?: RegExp): Record<string, string> | undefined {
  try {
    parseNotificationConfiguration(body, declared, ids());
  } catch (e) {
    assert.ok(isS3Error(e), String(e));
    assert.is(e.code, code, e.message);
    assert.is(e.status, code === 'NotImplemented' ? 501 : 400);
    if (message) assert.match(e.message, message);
    return e.extra;
  }
  assert.unreachable(`accepted: ${body}`);
}

test('target ARNs name a declared target by name and kind', () => {
  assert.is(targetArn('jobs', 'redis'), 'arn:cairn:sqs::jobs:redis');
  assert.equal(parseTargetArn('arn:cairn:sqs::jobs:redis'), { name: 'jobs', kind: 'redis', region: '' });
  assert.equal(parseTargetArn('arn:cairn:sns:eu-1:hooks:webhook'), { name: 'hooks', kind: 'webhook', region: 'eu-1' });
  for (const bad of [
    'arn:minio:sqs::jobs:redis',
    'arn:cairn:sqs::Jobs:redis',
    'arn:cairn:sqs::jobs:kafka',
    'arn:cairn:sqs::jobs',
    'arn:cairn:sqs::a:b:redis',
  ]) {
    assert.is(parseTargetArn(bad), undefined, bad);
  }
});

test('a configuration parses, keeps its elements and renders back to the same rules', () => {
  const body = doc(
    queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:*'], keyFilter(['prefix', 'images/'], ['Suffix', '.jpg']), 'thumbs') +
      `<TopicConfiguration><Topic>arn:cairn:sns:us-east-1:hooks:webhook</Topic><Event>s3:ObjectRemoved:Delete</Event><Event>s3:LifecycleExpiration:*</Event></TopicConfiguration>` +
      `<CloudFunctionConfiguration><Id>fn</Id><CloudFunction>arn:cairn:lambda::hooks:webhook</CloudFunction><Event>s3:ObjectCreated:Copy</Event>${keyFilter(['prefix', 'a&amp;b &lt;c&gt;/'])}</CloudFunctionConfiguration>`,
  );
  const rules = parseNotificationConfiguration(body, declared, ids());
  assert.equal(rules, [
    { id: 'thumbs', destination: 'Queue', arn: 'arn:cairn:sqs::jobs:redis', target: 'jobs', events: ['s3:ObjectCreated:*'], prefix: 'images/', suffix: '.jpg' },
    {
      id: 'gen-1',
      destination: 'Topic',
      arn: 'arn:cairn:sns:us-east-1:hooks:webhook',
      target: 'hooks',
      events: ['s3:ObjectRemoved:Delete', 's3:LifecycleExpiration:*'],
    },
    { id: 'fn', destination: 'CloudFunction', arn: 'arn:cairn:lambda::hooks:webhook', target: 'hooks', events: ['s3:ObjectCreated:Copy'], prefix: 'a&b <c>/' },
  ]);
  const xml = renderNotificationConfiguration(rules);
  assert.match(xml, '<Value>a&amp;b &lt;c&gt;/</Value>');
  assert.equal(parseNotificationConfiguration(xml, declared, ids()), rules);
});

test('an empty configuration turns notifications off', () => {
  assert.equal(parseNotificationConfiguration(doc(''), declared), []);
  assert.equal(parseNotificationConfiguration('<NotificationConfiguration/>', declared), []);
  assert.equal(parseNotificationConfiguration(renderNotificationConfiguration([]), declared), []);
});

test('an unknown target is refused as AWS refuses a destination it cannot validate', () => {
  let extra = refused(
    doc(queue('arn:cairn:sqs::nobody:redis', ['s3:ObjectCreated:Put'])),
    'InvalidArgument',
    /^Unable to validate the following destination configurations$/,
  );
  assert.equal(extra, { ArgumentName1: 'arn:cairn:sqs::nobody:redis', ArgumentValue1: 'No redis target named nobody is declared on this cluster.' });
  extra = refused(doc(queue('arn:cairn:sqs::jobs:webhook', ['s3:ObjectCreated:Put'])), 'InvalidArgument', /Unable to validate/); // wrong kind
  assert.is(extra?.ArgumentName1, 'arn:cairn:sqs::jobs:webhook');
  refused(doc(queue('arn:aws:sqs:us-east-1:123:q', ['s3:ObjectCreated:Put'])), 'InvalidArgument', /not well-formed/);
  refused(doc(queue('arn:cairn:sqs:eu-west-9:jobs:redis', ['s3:ObjectCreated:Put'])), 'InvalidArgument', /different region/);
});

test('bad events, filters, ids and overlaps are refused with InvalidArgument', () => {
  refused(doc(queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:Puts'])), 'InvalidArgument', /event is not supported/);
  refused(doc(queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectRestore:*'])), 'InvalidArgument', /event is not supported/);
  refused(doc(queue('arn:cairn:sqs::jobs:redis', ['s3:*'])), 'InvalidArgument', /event is not supported/);
  refused(doc(queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:*'], keyFilter(['middle', 'x']))), 'InvalidArgument', /prefix or suffix/);
  refused(
    doc(queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:*'], keyFilter(['prefix', 'a'], ['prefix', 'b']))),
    'InvalidArgument',
    /more than one prefix/,
  );
  refused(
    doc(queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:*'], keyFilter(['suffix', 'a'], ['suffix', 'b']))),
    'InvalidArgument',
    /more than one suffix/,
  );
  refused(doc(queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:*'], keyFilter(['prefix', 'x'.repeat(1025)]))), 'InvalidArgument', /1024 bytes/);
  refused(doc(queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:*'], '', 'i'.repeat(256))), 'InvalidArgument', /Id/);
  refused(
    doc(queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:Put'], '', 'same') + queue('arn:cairn:sqs::hooks:webhook', ['s3:ObjectRemoved:*'], '', 'same')),
    'InvalidArgument',
    /unique/,
  );
  // The same target twice for overlapping events and keys would deliver an event twice.
  refused(
    doc(
      queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:*'], keyFilter(['prefix', 'img/'])) +
        queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:Put'], keyFilter(['prefix', 'img/raw/'])),
    ),
    'InvalidArgument',
    /overlap/,
  );
  refused(
    doc(
      queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:Put']) +
        queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:Put'], keyFilter(['suffix', '.png'])),
    ),
    'InvalidArgument',
    /overlap/,
  );
});

test('non-overlapping rules for one target, and one event for several targets, are accepted', () => {
  const rules = parseNotificationConfiguration(
    doc(
      queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:*'], keyFilter(['prefix', 'img/'])) +
        queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:*'], keyFilter(['prefix', 'doc/'])) +
        queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectRemoved:*'], keyFilter(['prefix', 'img/'])) +
        queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:*'], keyFilter(['suffix', '.png'], ['prefix', 'x/'])) +
        queue('arn:cairn:sqs::hooks:webhook', ['s3:ObjectCreated:*']),
    ),
    declared,
    ids(),
  );
  assert.is(rules.length, 5);
});

test("the document's shape: DOCTYPE, unknown elements, missing parts and non-XML are MalformedXML", () => {
  refused(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "s3:ObjectCreated:Put">]>${doc(queue('arn:cairn:sqs::jobs:redis', ['&e;']))}`, 'MalformedXML');
  refused(doc('<Bogus/>'), 'MalformedXML');
  refused(doc(`<QueueConfiguration><Event>s3:ObjectCreated:Put</Event></QueueConfiguration>`), 'MalformedXML');
  refused(doc(`<QueueConfiguration><Queue>arn:cairn:sqs::jobs:redis</Queue></QueueConfiguration>`), 'MalformedXML');
  refused(doc(queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:Put'], '<Filter><Tag/></Filter>')), 'MalformedXML');
  refused('<LifecycleConfiguration/>', 'MalformedXML');
  refused('not xml', 'MalformedXML');
  refused('', 'MalformedXML');
  refused(doc('<EventBridgeConfiguration/>'), 'NotImplemented');
});

test('the matcher routes by event name or wildcard, prefix and suffix, each target once', () => {
  assert.ok(eventMatches('s3:ObjectCreated:*', 's3:ObjectCreated:CompleteMultipartUpload'));
  assert.ok(eventMatches('s3:ObjectRemoved:Delete', 's3:ObjectRemoved:Delete'));
  assert.not.ok(eventMatches('s3:ObjectRemoved:*', 's3:ObjectCreated:Put'));
  assert.not.ok(eventMatches('s3:ObjectCreated:Pu', 's3:ObjectCreated:Put'));
  const rules = parseNotificationConfiguration(
    doc(
      queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectCreated:*'], keyFilter(['prefix', 'img/'], ['suffix', '.jpg']), 'jpgs') +
        queue('arn:cairn:sqs::jobs:redis', ['s3:ObjectRemoved:Delete'], '', 'deletes') +
        queue('arn:cairn:sqs::hooks:webhook', ['s3:ObjectCreated:Put', 's3:LifecycleExpiration:*'], '', 'hook'),
    ),
    declared,
    ids(),
  );
  assert.equal(routesFor(rules, 's3:ObjectCreated:Put', 'img/a.jpg'), [
    { target: 'jobs', configurationId: 'jpgs' },
    { target: 'hooks', configurationId: 'hook' },
  ]);
  assert.equal(routesFor(rules, 's3:ObjectCreated:Copy', 'img/a.jpg'), [{ target: 'jobs', configurationId: 'jpgs' }]);
  assert.equal(routesFor(rules, 's3:ObjectCreated:Put', 'img/a.png'), [{ target: 'hooks', configurationId: 'hook' }]);
  assert.equal(routesFor(rules, 's3:ObjectCreated:Copy', 'doc/a.jpg'), []);
  assert.equal(routesFor(rules, 's3:ObjectRemoved:Delete', 'anything'), [{ target: 'jobs', configurationId: 'deletes' }]);
  assert.equal(routesFor(rules, 's3:ObjectRemoved:DeleteMarkerCreated', 'anything'), []);
  assert.equal(routesFor(rules, 's3:LifecycleExpiration:Delete', 'x'), [{ target: 'hooks', configurationId: 'hook' }]);
  assert.equal(routesFor([], 's3:ObjectCreated:Put', 'x'), []);
  const e = outboxEvent(
    {
      eventName: 's3:ObjectCreated:Put',
      bucket: 'b',
      key: 'img/a b.jpg',
      time: 1e12,
      stamp: { timestamp: 1e12, writer: 'n' },
      size: 3,
      eTag: 'x',
      region: 'r',
      principalId: 'p',
      bucketOwner: 'o',
      sourceIp: '127.0.0.1',
      requestId: 'q',
      node: 'n',
    },
    rules,
  );
  assert.equal(
    e.routes,
    [
      { target: 'jobs', configurationId: 'jpgs' },
      { target: 'hooks', configurationId: 'hook' },
    ],
    'routed by the raw key',
  );
  assert.is(e.record.s3.object.key, 'img/a+b.jpg');
});

test.run();
