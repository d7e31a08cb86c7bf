// A webhook notification target (undici): each event POSTed as JSON; any 2xx answer means delivered.
//
// One event per request, as AWS and MinIO send them, so a receiver that fails half-way never
// makes the worker re-send events it already took. Every request is bounded by one deadline
// (connect, headers and body together); its own connection pool is closed with the target.
import { Agent, request } from 'undici';
import { TARGET_NAME } from './arn.ts';
import type { EventMessage } from './record.ts';
import type { Target } from './targets.ts';

export interface WebhookTargetSpec {
  kind: 'webhook';
  name: string;
  url: string; // http:// or https://
  bearerToken?: string; // sent as Authorization: Bearer …
  timeoutMs?: number; // per request, default 10 s
}

/** The spec's URL; a RangeError naming the field when the spec cannot be used. */
export function checkWebhookTarget(spec: WebhookTargetSpec): URL {
  if (!TARGET_NAME.test(spec.name)) throw new RangeError(`webhook target: name ${JSON.stringify(spec.name)} is not a DNS label`);
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    throw new RangeError(`webhook target ${spec.name}: ${JSON.stringify(spec.url)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`webhook target ${spec.name}: the URL must be http or https`);
  return url;
}

export class WebhookTarget implements Target {
  readonly name: string;
  readonly kind = 'webhook' as const;
  readonly maxBatch = 1;
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly agent: Agent;

  constructor(spec: WebhookTargetSpec) {
    this.name = spec.name;
    this.url = checkWebhookTarget(spec);
    this.timeoutMs = spec.timeoutMs ?? 10_000;
    this.headers = { 'content-type': 'application/json', ...(spec.bearerToken ? { authorization: `Bearer ${spec.bearerToken}` } : {}) };
    this.agent = new Agent({ connect: { timeout: this.timeoutMs }, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs, connections: 2 });
  }

  async send(messages: EventMessage[], signal: AbortSignal): Promise<void> {
    for (const m of messages) {
      const res = await request(this.url, {
        method: 'POST',
        body: JSON.stringify(m),
        headers: this.headers,
        dispatcher: this.agent,
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]),
      });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`webhook target ${this.name} answered ${res.statusCode}`);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
