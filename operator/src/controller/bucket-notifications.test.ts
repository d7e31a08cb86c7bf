import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixtureBucket } from '../../test/fixtures.ts';
import { notificationRulesStatus, notificationsRequest } from './bucket-notifications.ts';

const rule = { target: 'jobs', events: ['s3:ObjectCreated:*'] };
const state = { notifications: [rule] } as never;

test('set: the list is the configuration; unset: left alone, unless the operator had set rules (then taken back)', () => {
  assert.equal(notificationsRequest(fixtureBucket({ notifications: [rule] })), { notifications: [rule] });
  assert.equal(notificationsRequest(fixtureBucket({ notifications: [] })), { notifications: [] });
  assert.equal(notificationsRequest(fixtureBucket()), {});
  assert.equal(notificationsRequest({ ...fixtureBucket(), status: { notificationRules: 2 } }), { notifications: [] });
  assert.equal(notificationRulesStatus(fixtureBucket({ notifications: [rule] }), state), { notificationRules: 1 });
  assert.equal(notificationRulesStatus(fixtureBucket(), state), {}, "rules set over S3 are not the operator's");
});

test.run();
