// `Expect: 100-continue`, sent only once a request has been authenticated and authorized: a client
// that asked waits for the 100 before it sends its body, so a refused upload costs it nothing. The
// server (node/listen.ts) marks the answers whose 100 is the handler's to send; the S3 app sends it
// when it lets the request through (s3/app.ts).
import type { ServerResponse } from 'node:http';

const awaiting = new WeakSet<ServerResponse>();

/** The server did not send 100 Continue for this request: the handler decides. */
export function deferContinue(res: ServerResponse): void {
  awaiting.add(res);
}

/** True while the client waits for a 100 Continue it has not had (and so has not sent its body). */
export function awaitingContinue(res: ServerResponse): boolean {
  return awaiting.has(res);
}

/** Let the client send its body (once; nothing when the server already did or nobody asked). */
export function sendContinue(res: ServerResponse): void {
  if (!awaiting.delete(res)) return;
  res.writeContinue();
}
