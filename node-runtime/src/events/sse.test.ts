import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SseParser } from './sse.ts';

test('messages end at a blank line, across chunks and line endings; comments skipped; id-only heartbeats kept', () => {
  const p = new SseParser();
  const text = 'retry: 1000\n\nevent: ready\nid: a.0\ndata: {"cursor":"a.0"}\n\n: heartbeat\nid: a.1\n\nid: a.2\r\ndata: x\r\ndata:y\r\n\r\n';
  const out = [...text].flatMap((c) => p.push(c)); // one character at a time: the worst split
  assert.equal(out, [
    // (retry alone sets the reconnection delay: not a message)
    { event: 'ready', id: 'a.0', data: '{"cursor":"a.0"}' },
    { id: 'a.1' },
    { id: 'a.2', data: 'x\ny' },
  ]);
  assert.equal(p.push(''), []);
});

test.run();
