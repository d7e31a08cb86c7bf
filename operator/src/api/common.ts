// What both CRDs share: the API group, standard conditions, and the CustomResourceDefinition
// envelope built around a spec/status schema.
import { array, enumOf, integer, object, string, type Infer, type JsonSchema, type Schema } from './schema.ts';

export const GROUP = 'storage.cairn.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** metav1.Condition, as every Kubernetes API reports conditions. */
export const conditionSchema = object({
  type: string({ maxLength: 316, description: 'Type of condition, e.g. Ready.' }).required(),
  status: enumOf(['True', 'False', 'Unknown'] as const, { description: 'Status of the condition: True, False or Unknown.' }).required(),
  reason: string({ maxLength: 1024, description: 'Machine-readable reason for the last transition, in CamelCase.' }).required(),
  message: string({ maxLength: 32768, description: 'Human-readable details of the condition.' }).required(),
  lastTransitionTime: string({ format: 'date-time', description: 'When the status last changed.' }).required(),
  observedGeneration: integer({ minimum: 0, description: 'The metadata.generation the condition was set for.' }),
});
export type Condition = Infer<typeof conditionSchema>;

export const conditionsSchema = array(conditionSchema, { description: 'Standard conditions, one per type.' }).with({
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
});

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CrdDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  spec: Schema<unknown, boolean>;
  status: Schema<unknown, boolean>;
  /** CEL rules on the whole object (they may read metadata.name). */
  rules?: { rule: string; message: string }[];
  printerColumns: PrinterColumn[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
}

/** The apiextensions.k8s.io/v1 CustomResourceDefinition for one definition. */
export function customResourceDefinition(def: CrdDefinition): Record<string, unknown> {
  const root: JsonSchema = {
    type: 'object',
    description: `${def.kind} (${API_VERSION}).`,
    properties: {
      // The descriptions every Kubernetes kind carries (kubectl explain shows them).
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { type: 'object', description: 'Standard object metadata.' },
      spec: def.spec.json,
      status: def.status.json,
    },
    required: ['spec'],
    ...(def.rules?.length ? { 'x-kubernetes-validations': def.rules } : {}),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'cairn' } },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: def.categories,
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: root },
          subresources: { status: {}, ...(def.scale ? { scale: def.scale } : {}) },
          additionalPrinterColumns: def.printerColumns,
        },
      ],
    },
  };
}
