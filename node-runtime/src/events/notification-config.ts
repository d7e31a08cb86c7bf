// A bucket's NotificationConfiguration: S3's XML parsed and validated with S3's error codes, rendered back, and the pure matcher that routes an event to targets.
//
// Queue, Topic and CloudFunction configurations all name a target declared on the cluster by its
// ARN (arn.ts); the element they came in is kept so GetBucketNotificationConfiguration gives back
// what was put. S3 answers InvalidArgument for every value it cannot accept (an unknown
// destination: "Unable to validate the following destination configurations", naming the ARN);
// MalformedXML for the document's shape, including any DOCTYPE. Two configurations may send the
// same events to different targets (fan-out without SNS), but not overlapping ones to the same
// target: that would deliver an event twice. Filters match the raw object key (not URL-encoded).
// This module reads XML itself rather than through s3/: events/ sits below the API layer.
import { randomUUID } from 'node:crypto';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { s3Error } from '../util/errors.ts';
import { hasDoctype } from '../util/xml-guard.ts';
import { parseTargetArn, type TargetKind } from './arn.ts';
import { EVENT_NAMES, eventRecord, type EventName, type Mutation, type OutboxEvent, type Route } from './record.ts';

export type DestinationKind = 'Queue' | 'Topic' | 'CloudFunction';
const DESTINATIONS: readonly DestinationKind[] = ['Queue', 'Topic', 'CloudFunction'];

export interface NotificationRule {
  id: string;
  destination: DestinationKind; // which element it came in
  arn: string; // as given
  target: string; // the declared target the ARN names
  events: string[]; // as given: names and wildcards such as s3:ObjectCreated:*
  prefix?: string;
  suffix?: string;
}

/** What parsing checks ARNs against: the targets declared on the cluster, and its region. */
export interface DeclaredTargets {
  targets: ReadonlyMap<string, TargetKind>;
  region: string;
}

export const MAX_NOTIFICATION_RULES = 100;
const MAX_ID = 255;
const MAX_FILTER_VALUE_BYTES = 1024;
const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const WILDCARDS = [...new Set(EVENT_NAMES.map((n) => n.slice(0, n.lastIndexOf(':') + 1) + '*'))];

type Node = Record<string, unknown>;
const invalid = (message: string, extra?: Record<string, string>) => s3Error('InvalidArgument', message, { extra });
const malformed = (message?: string) => s3Error('MalformedXML', message);

const repeated = new Set(['QueueConfiguration', 'TopicConfiguration', 'CloudFunctionConfiguration', 'Event', 'FilterRule']);
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: true,
  isArray: (name) => repeated.has(name),
});
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' });

function element(v: unknown): Node {
  if (typeof v === 'string' && v.trim() === '') return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed();
  return v as Node;
}
function only(node: Node, allowed: readonly string[]): void {
  for (const name of Object.keys(node)) if (name !== '#text' && !allowed.includes(name)) throw malformed(`Unexpected element ${name}.`);
}
function list(node: Node, name: string): Node[] {
  const v = node[name];
  return v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(element);
}
function text(node: Node, name: string): string | undefined {
  let v = node[name];
  if (Array.isArray(v)) {
    if (v.length !== 1) throw malformed(`${name} may appear once.`);
    v = v[0];
  }
  if (v === undefined || typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && Object.keys(v).length === 0) return '';
  throw malformed();
}
function texts(node: Node, name: string): string[] {
  const v = node[name];
  return v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((item) => text({ [name]: item }, name)!);
}

/** True when an event name is covered by a configured name or wildcard. */
export function eventMatches(pattern: string, name: string): boolean {
  return pattern === name || (pattern.endsWith(':*') && name.startsWith(pattern.slice(0, -1)));
}

function checkEvent(name: string): void {
  if (!(EVENT_NAMES as readonly string[]).includes(name) && !WILDCARDS.includes(name)) {
    throw invalid('A specified event is not supported for notifications.', { ArgumentName: 'Event', ArgumentValue: name });
  }
}

function parseFilter(node: Node, rule: NotificationRule): void {
  only(node, ['S3Key']);
  const s3Key = node.S3Key === undefined ? undefined : element(node.S3Key);
  if (!s3Key) return;
  only(s3Key, ['FilterRule']);
  for (const fr of list(s3Key, 'FilterRule')) {
    only(fr, ['Name', 'Value']);
    const name = text(fr, 'Name')?.toLowerCase();
    const value = text(fr, 'Value') ?? '';
    if (name !== 'prefix' && name !== 'suffix')
      throw invalid('filter rule name must be either prefix or suffix', { ArgumentName: 'FilterRule', ArgumentValue: text(fr, 'Name') ?? '' });
    if (rule[name] !== undefined) throw invalid(`Cannot specify more than one ${name} rule in a filter.`);
    if (Buffer.byteLength(value) > MAX_FILTER_VALUE_BYTES)
      throw invalid(`Size of filter rule value cannot exceed ${MAX_FILTER_VALUE_BYTES} bytes in UTF-8 representation`);
    rule[name] = value;
  }
}

function parseRule(node: Node, destination: DestinationKind, declared: DeclaredTargets, newId: () => string): NotificationRule {
  only(node, ['Id', destination, 'Event', 'Filter']);
  const id = text(node, 'Id');
  if (id !== undefined && id.length > MAX_ID) throw invalid(`The Id should not exceed ${MAX_ID} characters.`, { ArgumentName: 'Id', ArgumentValue: id });
  const arn = text(node, destination);
  if (arn === undefined) throw malformed(`${destination}Configuration needs a ${destination} ARN.`);
  const ref = parseTargetArn(arn);
  if (!ref)
    throw invalid('A specified destination ARN does not exist or is not well-formed. Verify the destination ARN.', {
      ArgumentName: destination,
      ArgumentValue: arn,
    });
  if (ref.region !== '' && ref.region !== declared.region) {
    throw invalid(
      'A specified destination is in a different region than the bucket. You must use a destination that resides in the same region as the bucket.',
      { ArgumentName: destination, ArgumentValue: arn },
    );
  }
  if (declared.targets.get(ref.name) !== ref.kind) {
    throw invalid('Unable to validate the following destination configurations', {
      ArgumentName1: arn.trim(),
      ArgumentValue1: `No ${ref.kind} target named ${ref.name} is declared on this cluster.`,
    });
  }
  const events = texts(node, 'Event');
  if (events.length === 0) throw malformed(`${destination}Configuration needs at least one Event.`);
  events.forEach(checkEvent);
  const rule: NotificationRule = { id: id || newId(), destination, arn: arn.trim(), target: ref.name, events };
  const filter = node.Filter === undefined ? undefined : element(node.Filter);
  if (filter) parseFilter(filter, rule);
  return rule;
}

const eventsOverlap = (a: string[], b: string[]) => EVENT_NAMES.some((n) => a.some((p) => eventMatches(p, n)) && b.some((p) => eventMatches(p, n)));
const prefixesOverlap = (a = '', b = '') => a.startsWith(b) || b.startsWith(a);
const suffixesOverlap = (a = '', b = '') => a.endsWith(b) || b.endsWith(a);

/** PutBucketNotificationConfiguration body → rules. An empty configuration (no rules) turns notifications off. */
export function parseNotificationConfiguration(body: string, declared: DeclaredTargets, newId: () => string = randomUUID): NotificationRule[] {
  if (hasDoctype(body)) throw malformed('A document type declaration is not allowed.');
  if (!body.trim() || XMLValidator.validate(body) !== true) throw malformed();
  let doc: Node;
  try {
    doc = parser.parse(body) as Node;
  } catch (e) {
    throw s3Error('MalformedXML', undefined, { cause: e });
  }
  const roots = Object.keys(doc).filter((n) => n !== '#text');
  if (roots.length !== 1 || roots[0] !== 'NotificationConfiguration') throw malformed();
  const root = element(doc.NotificationConfiguration);
  only(root, [...DESTINATIONS.map((d) => `${d}Configuration`), 'EventBridgeConfiguration']);
  if (root.EventBridgeConfiguration !== undefined)
    throw s3Error('NotImplemented', 'EventBridge is not available: declare a Redis or webhook target on the cluster.');
  const rules = DESTINATIONS.flatMap((d) => list(root, `${d}Configuration`).map((n) => parseRule(n, d, declared, newId)));
  if (rules.length > MAX_NOTIFICATION_RULES) throw invalid(`A bucket can have at most ${MAX_NOTIFICATION_RULES} notification configurations.`);
  const ids = new Set<string>();
  for (const [i, r] of rules.entries()) {
    if (ids.has(r.id)) throw invalid('Configuration IDs must be unique.', { ArgumentName: 'Id', ArgumentValue: r.id });
    ids.add(r.id);
    for (const o of rules.slice(0, i)) {
      if (o.target === r.target && eventsOverlap(o.events, r.events) && prefixesOverlap(o.prefix, r.prefix) && suffixesOverlap(o.suffix, r.suffix)) {
        throw invalid('Configurations overlap. Configurations on the same bucket cannot share a common event type.', {
          ArgumentName: 'Id',
          ArgumentValue: r.id,
        });
      }
    }
  }
  return rules;
}

/** GetBucketNotificationConfiguration answer: the rules as they were put, grouped by element. */
export function renderNotificationConfiguration(rules: readonly NotificationRule[]): string {
  const body: Node = { '@_xmlns': S3_NS };
  for (const d of DESTINATIONS) {
    const mine = rules.filter((r) => r.destination === d);
    if (mine.length === 0) continue;
    body[`${d}Configuration`] = mine.map((r) => {
      const filterRules = [
        ['prefix', r.prefix],
        ['suffix', r.suffix],
      ]
        .filter(([, v]) => v !== undefined)
        .map(([Name, Value]) => ({ Name, Value }));
      return { Id: r.id, [d]: r.arn, Event: r.events, Filter: filterRules.length ? { S3Key: { FilterRule: filterRules } } : undefined };
    });
  }
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + builder.build({ NotificationConfiguration: body });
}

/** Which targets get an event of `key` (a raw key), each once, under the first configuration that routes it there. */
export function routesFor(rules: readonly NotificationRule[], eventName: EventName, key: string): Route[] {
  const routes: Route[] = [];
  for (const r of rules) {
    if (!r.events.some((p) => eventMatches(p, eventName))) continue;
    if (r.prefix !== undefined && !key.startsWith(r.prefix)) continue;
    if (r.suffix !== undefined && !key.endsWith(r.suffix)) continue;
    if (!routes.some((x) => x.target === r.target)) routes.push({ target: r.target, configurationId: r.id });
  }
  return routes;
}

/** What a write's coordinator appends once the write is acknowledged: its record, routed by the bucket's rules (no route: the change feed still sees it). */
export function outboxEvent(mutation: Mutation, rules: readonly NotificationRule[]): OutboxEvent {
  return { record: eventRecord(mutation), routes: routesFor(rules, mutation.eventName, mutation.key) };
}
