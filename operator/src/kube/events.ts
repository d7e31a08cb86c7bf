// Kubernetes Events for what a person should notice (scaling, drains, refusals, phase changes).
// Repeats of the same reason and message on the same object within ten minutes bump the count of
// the existing Event instead of creating a new one, as client-go's recorder does.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../../node-runtime/src/util/log.ts';
import { FIELD_MANAGER } from '../builders/names.ts';
import { collectionPath, objectPath, PATCH_MERGE, resources, type KubeRest } from './rest.ts';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export class EventRecorder {
  private readonly rest: KubeRest;
  private readonly log: Logger;
  private readonly recent = new Map<string, { name: string; count: number; at: number }>();

  constructor(rest: KubeRest, log: Logger) {
    this.rest = rest;
    this.log = log;
  }

  async record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const ns = target.metadata.namespace ?? 'default';
    const key = `${target.metadata.uid}/${reason}/${message}`;
    const now = new Date();
    try {
      const prev = this.recent.get(key);
      if (prev && now.getTime() - prev.at < 10 * 60_000) {
        prev.count++;
        prev.at = now.getTime();
        await this.rest.request('PATCH', objectPath(resources.events, ns, prev.name), {
          contentType: PATCH_MERGE,
          body: { count: prev.count, lastTimestamp: now.toISOString() },
        });
        return;
      }
      const name = `${target.metadata.name}.${now.getTime().toString(16)}${randomBytes(2).toString('hex')}`;
      await this.rest.request('POST', collectionPath(resources.events, ns), {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace: ns },
          involvedObject: { apiVersion: target.apiVersion, kind: target.kind, name: target.metadata.name, namespace: ns, uid: target.metadata.uid },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: FIELD_MANAGER },
          reportingComponent: FIELD_MANAGER,
          firstTimestamp: now.toISOString(),
          lastTimestamp: now.toISOString(),
          count: 1,
        },
      });
      this.recent.set(key, { name, count: 1, at: now.getTime() });
      if (this.recent.size > 1000) this.recent.delete(this.recent.keys().next().value!);
    } catch (e) {
      // An Event is a courtesy: failing to write one must never fail a reconcile.
      this.log.warn({ err: String(e), reason }, 'could not record event');
    }
  }
}
