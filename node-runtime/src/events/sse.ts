// Reading a text/event-stream (the member feeds the merged change feed reads, `cairn watch`): the
// parsing rules of the HTML standard that our feeds use — fields `event`, `id`, `data` (joined
// with \n), `retry`; comment lines; a message ends at a blank line. An id-only message is still a
// message: a heartbeat that moves the cursor.
export interface SseMessage {
  event?: string;
  id?: string;
  data?: string;
  retry?: number;
}

export class SseParser {
  private buf = '';
  private cur: SseMessage = {};

  /** The messages a chunk completes. */
  push(chunk: string): SseMessage[] {
    this.buf += chunk;
    const out: SseMessage[] = [];
    for (let i = this.buf.search(/\r\n|\r|\n/); i >= 0; i = this.buf.search(/\r\n|\r|\n/)) {
      const line = this.buf.slice(0, i);
      // A \r at the end of the buffer may be the first half of \r\n: wait for the next chunk.
      if (this.buf[i] === '\r' && i + 1 === this.buf.length) break;
      this.buf = this.buf.slice(i + (this.buf.startsWith('\r\n', i) ? 2 : 1));
      if (line === '') {
        if (this.cur.id !== undefined || this.cur.data !== undefined || this.cur.event !== undefined) out.push(this.cur);
        this.cur = {};
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') this.cur.data = this.cur.data === undefined ? value : `${this.cur.data}\n${value}`;
      else if (field === 'event') this.cur.event = value;
      else if (field === 'id' && !value.includes('\0')) this.cur.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.cur.retry = Number(value);
    }
    return out;
  }
}

/** The messages of a response body. */
export async function* sseMessages(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of body) yield* parser.push(decoder.decode(chunk, { stream: true }));
}
