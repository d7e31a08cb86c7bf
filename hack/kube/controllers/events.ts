// Kubernetes Events (core/v1) for what a user should see in `kubectl describe`: the controllers and
// the kubelet record them fire-and-forget, as client-go's event recorder does (without its
// aggregation of repeats into one Event with a count).
import { randomBytes } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { Clients } from './client.ts';
import { logger } from '../../../node-runtime/src/util/log.ts';

const log = logger('events');

export interface EventSubject {
  apiVersion?: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string };
}

export type RecordEvent = (subject: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string) => void;

export function eventRecorder(c: Clients, component: string, host?: string): RecordEvent {
  return (subject, type, reason, message) => {
    const namespace = subject.metadata.namespace ?? 'default';
    const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${subject.metadata.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`, namespace },
      involvedObject: { apiVersion: subject.apiVersion ?? 'v1', kind: subject.kind, name: subject.metadata.name, namespace, uid: subject.metadata.uid },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: at,
      lastTimestamp: at,
      source: { component, ...(host ? { host } : {}) },
      reportingComponent: component,
      reportingInstance: host ?? component,
    };
    c.core.createNamespacedEvent({ namespace, body: body as unknown as CoreV1Event }).catch((e) => log.debug({ reason, err: String(e) }, 'event not recorded'));
  };
}
