// A tiny structural-schema builder: every value carries both the OpenAPI v3 schema that goes into
// the CRD and (through inference) the TypeScript type of the data it describes, so the CRD YAML and
// the operator's types cannot drift. Chosen over TypeBox because the Kubernetes extensions
// (x-kubernetes-validations, int-or-string, preserve-unknown-fields, structural defaults) are the
// point here and TypeBox would need custom kinds for each; this builder is ~150 lines.

export interface ValidationRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: string;
}

/** The JSON schema subset a structural CRD schema uses. */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema;
  enum?: readonly unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  anyOf?: JsonSchema[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: ValidationRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

/**
 * A schema for values of type T. `Present` is true when the value is always there after the API
 * server has defaulted the object (required, or has a default): such fields are non-optional in T's
 * parent.
 */
export class Schema<T, Present extends boolean = false> {
  readonly json: JsonSchema;
  readonly present: Present;
  declare readonly __type?: T;

  constructor(json: JsonSchema, present: Present) {
    this.json = json;
    this.present = present;
  }

  /** The field must be given by the user. */
  required(): Schema<T, true> {
    return new Schema<T, true>(this.json, true);
  }
  /** The API server (and `applyDefaults`) fills this value in when it is absent. */
  default(value: T): Schema<T, true> {
    return new Schema<T, true>({ ...this.json, default: value }, true);
  }
  describe(description: string): Schema<T, Present> {
    return new Schema({ ...this.json, description }, this.present);
  }
  /** A CEL rule (x-kubernetes-validations) with the message the user sees when it fails. */
  rule(rule: string, message: string, extra: { fieldPath?: string; reason?: string } = {}): Schema<T, Present> {
    const rules = [...(this.json['x-kubernetes-validations'] ?? []), { rule, message, ...extra }];
    return new Schema({ ...this.json, 'x-kubernetes-validations': rules }, this.present);
  }
  with(extra: JsonSchema): Schema<T, Present> {
    return new Schema({ ...this.json, ...extra }, this.present);
  }
}

export type Infer<S> = S extends Schema<infer T, boolean> ? T : never;
type AnySchema = Schema<unknown, boolean>;
type Shape = Record<string, Schema<any, boolean>>;
type PresentKeys<P extends Shape> = { [K in keyof P]: P[K] extends Schema<any, true> ? K : never }[keyof P];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<P extends Shape> = Simplify<{ [K in PresentKeys<P>]: Infer<P[K]> } & { [K in Exclude<keyof P, PresentKeys<P>>]?: Infer<P[K]> }>;

interface Common {
  description?: string;
}

export function string(opts: Common & { pattern?: string; minLength?: number; maxLength?: number; format?: string } = {}): Schema<string> {
  return new Schema({ type: 'string', ...opts }, false);
}

export function integer(opts: Common & { minimum?: number; maximum?: number } = {}): Schema<number> {
  return new Schema({ type: 'integer', ...opts }, false);
}

export function boolean(opts: Common = {}): Schema<boolean> {
  return new Schema({ type: 'boolean', ...opts }, false);
}

export function enumOf<const V extends readonly string[]>(values: V, opts: Common = {}): Schema<V[number]> {
  return new Schema({ type: 'string', enum: values, ...opts }, false);
}

// Kubernetes quantity grammar (resource.Quantity) without the sign: a number, then a binary or decimal
// SI suffix or an exponent. RE2 syntax (no lookahead), as the API server's pattern check uses Go's regexp.
const QUANTITY_SUFFIX = '(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
const NON_NEGATIVE_NUMBER = '^\\+?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))';
// At least one non-zero digit, before or after the point.
const POSITIVE_NUMBER = '^\\+?(([0-9]*[1-9][0-9]*(\\.[0-9]*)?)|([0-9]*\\.[0-9]*[1-9][0-9]*))';

/**
 * A Kubernetes resource quantity ("10Gi", "500M", 1024) as the API accepts it: int or string. Never
 * negative; `positive` refuses zero too (a size), in both forms (the pattern checks strings,
 * `minimum` integers), so the API server rejects the spec instead of a child failing later.
 */
export function quantity(opts: Common & { positive?: boolean } = {}): Schema<string | number> {
  const { positive, ...rest } = opts;
  return new Schema(
    {
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern: (positive ? POSITIVE_NUMBER : NON_NEGATIVE_NUMBER) + QUANTITY_SUFFIX,
      minimum: positive ? 1 : 0,
      ...rest,
    },
    false,
  );
}

export function array<S extends AnySchema>(
  item: S,
  opts: Common & { minItems?: number; maxItems?: number; listType?: 'atomic' | 'set' } = {},
): Schema<Infer<S>[]> {
  const { listType, ...rest } = opts;
  return new Schema({ type: 'array', items: item.json, ...(listType ? { 'x-kubernetes-list-type': listType } : {}), ...rest }, false);
}

export function stringMap(opts: Common = {}): Schema<Record<string, string>> {
  return new Schema({ type: 'object', additionalProperties: { type: 'string' }, ...opts }, false);
}

export function object<P extends Shape>(props: P, opts: Common = {}): Schema<ObjectOf<P>> {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [k, s] of Object.entries(props)) {
    properties[k] = s.json;
    if (s.present && s.json.default === undefined) required.push(k);
  }
  return new Schema({ type: 'object', ...opts, properties, ...(required.length ? { required } : {}) }, false);
}

/**
 * Fill in schema defaults the way the API server's structural defaulting does (a defaulted object
 * gets its own nested defaults too). The operator applies it to what it reads so it behaves the same
 * against an API server that has not defaulted an older stored object.
 */
export function applyDefaults<T>(schema: Schema<T, boolean> | JsonSchema, value: unknown): T {
  const json = schema instanceof Schema ? schema.json : schema;
  return fill(json, value) as T;
}

function fill(json: JsonSchema, value: unknown): unknown {
  if (value === undefined && json.default !== undefined) value = structuredClone(json.default);
  if (value === undefined || value === null) return value;
  if (json.type === 'object' && json.properties && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const [k, sub] of Object.entries(json.properties)) {
      const v = fill(sub, out[k]);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  if (json.type === 'array' && json.items && Array.isArray(value)) return value.map((v) => fill(json.items!, v));
  return value;
}
