// The targets file: JSON or YAML, secrets from files, and every mistake named with the target it is in.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTargets } from './targets-file.ts';

const secrets: Record<string, string> = { '/s/pw': 'hunter2\n', '/s/token': 'tok' };
const secret = async (p: string) => {
  if (!(p in secrets)) throw new Error(`ENOENT: no such file ${p}`);
  return secrets[p];
};
const problem = (text: string) =>
  parseTargets(text, secret).then(
    () => 'accepted',
    (e: Error) => e.message,
  );

test('YAML or JSON, a list or { targets }, secrets read from files without their newline', async () => {
  const yaml = `targets:\n  - { name: jobs, kind: redis, address: "10.0.0.5:6379", stream: ev, passwordFile: /s/pw, db: 2 }\n  - { name: hook, kind: webhook, url: https://h.example/x, bearerTokenFile: /s/token }\n`;
  assert.equal(await parseTargets(yaml, secret), [
    { name: 'jobs', kind: 'redis', address: '10.0.0.5:6379', stream: 'ev', password: 'hunter2', db: 2 },
    { name: 'hook', kind: 'webhook', url: 'https://h.example/x', bearerToken: 'tok' },
  ]);
  assert.equal(await parseTargets('[{"name":"h","kind":"webhook","url":"http://127.0.0.1:9/"}]', secret), [
    { name: 'h', kind: 'webhook', url: 'http://127.0.0.1:9/' },
  ]);
  assert.equal(await parseTargets('', secret), []);
});

test('a bad target is refused with what is wrong and where', async () => {
  assert.match(await problem('- { name: a, kind: kafka }'), /target #1 \(a\): kind must be redis or webhook/);
  assert.match(await problem('- { name: a, kind: webhook, url: ftp://x }'), /target #1 \(a\): webhook target a: the URL must be http or https/);
  assert.match(await problem('- { name: a, kind: redis, address: nohost, list: l }'), /is not host:port/);
  assert.match(await problem('- { name: a, kind: redis, address: "h:1", list: l, stream: s }'), /set exactly one of list and stream/);
  assert.match(await problem('- { name: Bad_Name, kind: webhook, url: "http://h/" }'), /is not a DNS label/);
  assert.match(await problem('- { name: a, kind: webhook, url: "http://h/", secret: x }'), /unknown field secret for a webhook target/);
  assert.match(await problem('- { name: a, kind: webhook, url: "http://h/", timeoutMs: soon }'), /timeoutMs must be a non-negative integer/);
  assert.match(await problem('- { name: a, kind: redis, address: "h:1", list: l, passwordFile: /s/none }'), /passwordFile: ENOENT/);
  assert.match(
    await problem('- { name: a, kind: redis, address: "h:1", list: l, password: x, passwordFile: /s/pw }'),
    /give password or passwordFile, not both/,
  );
  assert.match(
    await problem('- { name: a, kind: webhook, url: "http://h/" }\n- { name: a, kind: webhook, url: "http://i/" }'),
    /target #2 \(a\): the name a is declared twice/,
  );
  assert.match(await problem('targets: 3'), /expected a list of targets/);
  assert.match(await problem('{ "targets": ['), /not JSON or YAML/);
});

test.run();
