// Request validation with the same JSON Schemas the OpenAPI document publishes: TypeBox
// builds the schema (and its static type), ajv compiles it once, and a failure is a 400
// that names the offending field path (`/requests/2/date`) and what was expected.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Static, TSchema } from '@sinclair/typebox';
import { HttpError } from './errors.ts';

// ajv-formats is CommonJS; under ESM its function is the default export's default.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

// Bodies are JSON, so types are checked strictly; query strings and path parameters are
// text, so those are coerced ("10" -> 10) before checking. `strictNumbers`: JSON can spell
// numbers JavaScript cannot hold (1e400 parses as Infinity), and ajv accepts Infinity and
// NaN as numbers (even as integers) unless told otherwise. Integers beyond 2^53 are refused
// by the schemas' own bounds (SafeInteger in serving/schemas.ts).
const strict = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: false, strictNumbers: true, verbose: true }));
const coercing = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: true, strictNumbers: true, verbose: true }));
const compiled = { body: new WeakMap<TSchema, ValidateFunction>(), text: new WeakMap<TSchema, ValidateFunction>() };

function compile(schema: TSchema, where: 'body' | 'query' | 'params'): ValidateFunction {
  const [cache, ajv] = where === 'body' ? [compiled.body, strict] : [compiled.text, coercing];
  let fn = cache.get(schema);
  if (!fn) cache.set(schema, (fn = ajv.compile(schema)));
  return fn;
}

export interface FieldProblem {
  /** JSON Pointer of the offending value inside the checked object, e.g. `/requests/0/market`. */
  readonly path: string;
  readonly message: string;
}

/** Human sentences for ajv errors, each naming its field path. */
export function describeProblems(errors: readonly ErrorObject[], where: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  // A value that matches no branch of an anyOf gets one error per branch plus the anyOf's;
  // say it once, with the schema's own description of what is accepted.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && anyOfPaths.has(e.instancePath) && e.schemaPath.includes('/anyOf/')) continue;
    let path = e.instancePath || '';
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      path = `${path}/${String((e.params as { missingProperty: string }).missingProperty)}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      path = `${path}/${String((e.params as { additionalProperty: string }).additionalProperty)}`;
      message = 'is not an allowed field';
    } else if (e.keyword === 'anyOf') {
      const description = (e.parentSchema as { description?: string } | undefined)?.description;
      message = description ? `is not valid: expected ${description.replace(/\.$/, '')}` : 'matches none of the allowed forms';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    }
    out.push({ path: `${where}${path}` || '/', message });
  }
  // anyOf/oneOf repeat the same problem once per branch; keep each sentence once.
  const seen = new Set<string>();
  return out.filter((p) => {
    const key = p.path + p.message;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Returns `value` typed by `schema`, or throws a 400 `validation_failed` naming every
 * offending field path. `where` prefixes paths to say which part of the request it was
 * (`body`, `query`).
 */
export function validate<S extends TSchema>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): Static<S> {
  const fn = compile(schema, where);
  if (fn(value)) {
    if (where !== 'body') refuseNonFinite(value, where);
    return value as Static<S>;
  }
  const problems = describeProblems(fn.errors ?? [], where);
  const first = problems[0];
  throw new HttpError(400, 'validation_failed', first ? `Invalid request: ${first.path} ${first.message}.` : `Invalid request ${where}.`, { problems });
}

/**
 * ajv's coercion turns the text "1e400" into Infinity and then skips its own type and range
 * checks for it (even with strictNumbers), so a query or path number is checked here once
 * more. Query strings and path parameters are flat: only their own values need looking at.
 */
function refuseNonFinite(value: unknown, where: 'query' | 'params'): void {
  if (typeof value !== 'object' || value === null) return;
  const problems = Object.entries(value)
    .filter(([, v]) => typeof v === 'number' && !Number.isFinite(v))
    .map(([k]) => ({ path: `${where}/${k}`, message: 'must be a finite number' }));
  if (problems.length > 0) throw new HttpError(400, 'validation_failed', `Invalid request: ${problems[0]!.path} ${problems[0]!.message}.`, { problems });
}
