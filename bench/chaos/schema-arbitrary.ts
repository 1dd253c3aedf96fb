// fast-check arbitraries from the JSON Schemas the server publishes in /openapi.json (the
// same TypeBox schemas that validate requests): values that should pass validation, and
// values a hostile or careless client sends instead (a field dropped or added, a wrong
// type, numbers JSON can spell and JavaScript cannot hold, odd strings). Values known to the
// server (asset keys, run ids, node ids, days) are mixed in by field name, so valid
// requests get past lookups into the code behind them.
import fc from 'fast-check';

export type JsonSchema = {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly patternProperties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly format?: string;
  readonly pattern?: string;
};

/**
 * A number written into the JSON text as is (`1e400`, `99999999999999999999`, `-0`), which
 * JSON.stringify cannot produce: what a client in another language may send.
 */
export class RawNumber {
  constructor(readonly text: string) {}
}

/** JSON text of a generated value, RawNumber tokens spliced in unchanged. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Values the server knows, by field or parameter name (`key`, `id`, `node`, `date`, ...). */
export type Known = Readonly<Record<string, readonly (string | number)[]>>;

export interface SchemaContext {
  /** Resolves `#/components/schemas/Name`. */
  readonly resolve: (ref: string) => JsonSchema | undefined;
  readonly known: Known;
}

export const HUGE_NUMBERS = ['1e400', '-1e400', '99999999999999999999', '-0', '1e-400', '9007199254740993', '0.1e1', '1E2'] as const;
const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  '../../etc/passwd',
  '%2e%2e%2f',
  '%',
  '💥',
  'ǅ',
  'a'.repeat(300),
  '<script>alert(1)</script>',
  "'; DROP TABLE runs; --",
  'null',
  '-1',
  '1e400',
  'NaN',
  '2018-13-01',
  '9999-99-99',
  '0000-00-00',
  '2016-02-30',
];

/** Anything at all: what a wrong-type mutation puts where a value was. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, '', [], {}),
  fc.constantFrom(...HUGE_NUMBERS).map((t) => new RawNumber(t)),
  fc.constantFrom(...ODD_STRINGS),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

const day = (d: Date): string => d.toISOString().slice(0, 10);
const isoDay = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2100-12-31T00:00:00Z'), noInvalidDate: true }).map(day);
const isoDateTime = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2100-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());

/** At most this many array items are generated (the schemas allow up to 1,000 rows). */
const MAX_GENERATED_ITEMS = 40;

/**
 * Values that match `schema` (most of the time: patterns and formats are followed, known
 * values mixed in under the field's `name`).
 */
export function valid(schema: JsonSchema, ctx: SchemaContext, name = '', depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) {
    const target = ctx.resolve(schema.$ref);
    // A recursive schema (the lineage tree) ends in an empty value past a few levels.
    return target && depth < 6 ? valid(target, ctx, name, depth + 1) : fc.constant({});
  }
  const known = ctx.known[name];
  const own = validOwn(schema, ctx, name, depth);
  return known && known.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...known), weight: 3 }, { arbitrary: own, weight: 1 }) : own;
}

function validOwn(schema: JsonSchema, ctx: SchemaContext, name: string, depth: number): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return fc.oneof(...branches.map((b) => valid(b, ctx, name, depth + 1)));
  if (schema.allOf)
    return fc
      .tuple(...schema.allOf.map((b) => valid(b, ctx, name, depth + 1)))
      .map((parts) => Object.assign({}, ...parts.filter((p) => typeof p === 'object' && p !== null)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'date') return isoDay;
      if (schema.format === 'date-time') return isoDateTime;
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 20, 40) });
    case 'integer': {
      const min = Math.max(schema.minimum ?? -1_000, Number.MIN_SAFE_INTEGER);
      const max = Math.min(schema.maximum ?? min + 100_000, Number.MAX_SAFE_INTEGER);
      return fc.integer({ min, max });
    }
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(schema.maxItems ?? 10, MAX_GENERATED_ITEMS));
      return fc.array(schema.items ? valid(schema.items, ctx, singular(name), depth + 1) : anyJson, { minLength, maxLength });
    }
    default: {
      if (schema.properties) {
        const model: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, s] of Object.entries(schema.properties)) model[k] = valid(s, ctx, k, depth + 1);
        return fc.record(model, { requiredKeys: [...(schema.required ?? [])].filter((k) => k in model) });
      }
      const values = schema.patternProperties
        ? Object.values(schema.patternProperties)[0]
        : typeof schema.additionalProperties === 'object'
          ? schema.additionalProperties
          : undefined;
      if (values) {
        const keys = ctx.known[`${name}:keys`];
        const key = keys && keys.length > 0 ? fc.oneof(fc.constantFrom(...keys.map(String)), fc.string({ maxLength: 10 })) : fc.string({ maxLength: 10 });
        return fc.dictionary(key, valid(values, ctx, '', depth + 1), { maxKeys: 8 });
      }
      return type === undefined ? anyJson : fc.constant({});
    }
  }
}

/** `dates` -> `date`, `nodes` -> `node`: array items are looked up by the singular name. */
const singular = (name: string): string => (name.endsWith('s') ? name.slice(0, -1) : name);

/**
 * A valid value of `schema`, then sometimes broken: a required field dropped, an unknown one
 * added, a field (at any depth) replaced by anything at all.
 */
export function mutated(schema: JsonSchema, ctx: SchemaContext): fc.Arbitrary<unknown> {
  return fc
    .tuple(valid(schema, ctx), fc.nat(), anyJson, fc.constantFrom('drop', 'add', 'replace', 'replace', 'keep'))
    .map(([value, pick, junk, how]) => breakValue(value, pick, junk, how));
}

function breakValue(value: unknown, pick: number, junk: unknown, how: 'drop' | 'add' | 'replace' | 'keep'): unknown {
  if (how === 'keep') return value;
  if (Array.isArray(value)) {
    if (value.length === 0) return how === 'add' ? [junk] : junk;
    const i = pick % value.length;
    return value.map((v, j) => (j === i ? breakValue(v, Math.floor(pick / 7), junk, how) : v));
  }
  if (value !== null && typeof value === 'object' && !(value instanceof RawNumber)) {
    const entries = Object.entries(value);
    if (how === 'add' || entries.length === 0) return { ...value, [`unexpected_${pick % 100}`]: junk };
    const [k, v] = entries[pick % entries.length]!;
    if (how === 'drop') return Object.fromEntries(entries.filter(([key]) => key !== k));
    // Replace here, or go one level deeper.
    return { ...value, [k]: pick % 3 === 0 ? breakValue(v, Math.floor(pick / 3), junk, how) : junk };
  }
  return junk;
}
