import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errorLine } from './logs.ts';

test('only errors of JSON logs reach the terminal, as one readable line; other output as it is', () => {
  assert.is(errorLine('{"level":30,"component":"server","msg":"node started"}'), undefined);
  assert.is(errorLine('{"level":40,"component":"repair","msg":"chunk copy failed"}'), undefined);
  assert.is(
    errorLine('{"level":50,"component":"disk","msg":"data disk state","reason":"the data directory /d is gone"}'),
    'error [disk] data disk state (the data directory /d is gone)',
  );
  assert.is(
    errorLine('{"level":60,"component":"cli","msg":"could not start","err":"listen EADDRINUSE: address already in use 127.0.0.2:9100"}'),
    'FATAL [cli] could not start: listen EADDRINUSE: address already in use 127.0.0.2:9100',
  );
  assert.is(errorLine('    at Server.setupListenHandle (node:net:1817:16)'), '    at Server.setupListenHandle (node:net:1817:16)');
  assert.is(errorLine('  '), undefined);
  // The runtime logs level labels.
  assert.is(errorLine('{"level":"info","component":"server","msg":"node started"}'), undefined);
  assert.is(errorLine('{"level":"fatal","component":"cli","msg":"could not start","err":"boom"}'), 'FATAL [cli] could not start: boom');
});

test.run();
