// A stalled client for the chaos suite: a signed PUT that announces a body, sends part of it and
// goes silent, as a slow or hostile client would. The node must close the socket (its idle timeout)
// and give back the chunk memory the body held; `closedWithin` says whether it did in time.
import { connect } from 'node:net';
import { SigV4Signer } from '../bench/sigv4.ts';

export interface StalledUpload {
  /** True once the node closed the socket, waiting at most `ms` from when the client went silent. */
  closedWithin(ms: number): Promise<boolean>;
  destroy(): void;
}

export function stalledUpload(endpoint: string, keys: { accessKey: string; secretKey: string }, path: string, announced: number, sent: number): StalledUpload {
  const u = new URL(endpoint);
  const req = new SigV4Signer({ ...keys, region: 'us-east-1' }).sign({
    method: 'PUT',
    host: u.host,
    path: `/${path}`,
    headers: { 'content-length': String(announced) },
  });
  const socket = connect(Number(u.port), u.hostname);
  socket.on('error', () => {});
  socket.on('data', () => {}); // an answer (400 RequestTimeout) is read, nothing more is sent
  let silentSince = Date.now();
  let closedAt: number | undefined;
  const closed = new Promise<void>((r) =>
    socket.once('close', () => {
      closedAt = Date.now();
      r();
    }),
  );
  socket.write(
    `PUT ${req.path} HTTP/1.1\r\n${Object.entries(req.headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n')}\r\n\r\n`,
  );
  socket.write(Buffer.alloc(sent, 7), () => {
    silentSince = Date.now();
  });
  return {
    async closedWithin(ms) {
      const left = silentSince + ms - Date.now();
      if (closedAt === undefined && left > 0) {
        let t: NodeJS.Timeout | undefined;
        await Promise.race([
          closed,
          new Promise((r) => {
            t = setTimeout(r, left);
          }),
        ]);
        clearTimeout(t);
      }
      return closedAt !== undefined && closedAt - silentSince <= ms;
    },
    destroy: () => socket.destroy(),
  };
}
