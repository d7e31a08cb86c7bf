// A Redis notification target (ioredis): each event RPUSHed onto a list or XADDed to a stream, as a JSON message.
//
// No offline queue: while Redis is unreachable a send fails at once (the delivery worker keeps the
// events in the outbox and backs off) instead of piling commands up in memory. ioredis reconnects
// by itself; connect and command timeouts bound every attempt. A batch goes in one command (RPUSH
// of all values) or one MULTI (XADDs), so it lands whole or not at all.
import { Redis } from 'ioredis';
import { TARGET_NAME } from './arn.ts';
import type { EventMessage } from './record.ts';
import type { Target } from './targets.ts';

export interface RedisTargetSpec {
  kind: 'redis';
  name: string;
  address: string; // host:port
  username?: string;
  password?: string;
  db?: number;
  list?: string; // exactly one of list and stream
  stream?: string;
  streamMaxLen?: number; // XADD MAXLEN ~ n: Redis trims the stream, the consumer's business
  connectTimeoutMs?: number; // default 5 s
  commandTimeoutMs?: number; // default 5 s
}

/** The spec's host and port; a RangeError naming the field when the spec cannot be used. */
export function checkRedisTarget(spec: RedisTargetSpec): { host: string; port: number } {
  if (!TARGET_NAME.test(spec.name)) throw new RangeError(`redis target: name ${JSON.stringify(spec.name)} is not a DNS label`);
  if ((spec.list === undefined) === (spec.stream === undefined)) throw new RangeError(`redis target ${spec.name}: set exactly one of list and stream`);
  if ((spec.list ?? spec.stream) === '') throw new RangeError(`redis target ${spec.name}: the key is empty`);
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(spec.address);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) throw new RangeError(`redis target ${spec.name}: address ${JSON.stringify(spec.address)} is not host:port`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

export class RedisTarget implements Target {
  readonly name: string;
  readonly kind = 'redis' as const;
  readonly maxBatch = 100;
  private readonly spec: RedisTargetSpec;
  private readonly client: Redis;
  /** The connection's last error (ioredis reports them as events; the worker reports the failed sends). */
  lastError?: Error;

  constructor(spec: RedisTargetSpec) {
    const { host, port } = checkRedisTarget(spec);
    this.name = spec.name;
    this.spec = spec;
    this.client = new Redis({
      host,
      port,
      username: spec.username,
      password: spec.password,
      db: spec.db ?? 0,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: spec.connectTimeoutMs ?? 5_000,
      commandTimeout: spec.commandTimeoutMs ?? 5_000,
      retryStrategy: (times) => Math.min(100 * times, 2_000), // reconnect forever, at most every 2 s
    });
    this.client.on('error', (e: Error) => {
      this.lastError = e;
    });
  }

  async send(messages: EventMessage[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.push(messages.map((m) => JSON.stringify(m)));
    } catch (e) {
      // A command refused while disconnected says only that; the connection's own error says why.
      if (this.client.status !== 'ready' && this.lastError) throw new Error(`redis target ${this.name}: ${this.lastError.message}`, { cause: e });
      throw e;
    }
  }

  private async push(values: string[]): Promise<void> {
    if (this.client.status === 'wait' || this.client.status === 'end') await this.client.connect();
    if (this.spec.list !== undefined) {
      await this.client.rpush(this.spec.list, ...values);
      return;
    }
    const trim = this.spec.streamMaxLen === undefined ? [] : ['MAXLEN', '~', String(this.spec.streamMaxLen)];
    const multi = this.client.multi();
    for (const v of values) multi.xadd(this.spec.stream!, ...trim, '*', 'event', v);
    const replies = await multi.exec();
    if (!replies) throw new Error(`redis target ${this.name}: the transaction was aborted`);
    for (const [err] of replies) if (err) throw err;
  }

  async close(): Promise<void> {
    if (this.client.status === 'end' || this.client.status === 'wait') {
      this.client.disconnect();
      return;
    }
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
