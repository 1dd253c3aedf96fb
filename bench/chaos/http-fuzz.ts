// A property-based HTTP fuzzer for the server: it reads the server's own /openapi.json, and
// for every documented operation sends valid and mutated path parameters, query strings and
// bodies (bench/chaos/schema-arbitrary.ts), plus what no schema describes: methods the
// server does not implement, bad JSON, wrong content types, odd paths. Every answer is
// checked: no 5xx other than a 501 `not_implemented` or a 503 with a JSON error body (a
// deliberate timeout, not ready, shutting down), and every error (>= 400) is JSON with an
// `error.code`. Deterministic for a seed (what is sent; the server's timing is its own).
//
//   const r = await runHttpFuzz({ baseUrl, count: 400, seed: 16 });   // the CI test
//   const r = await runHttpFuzz({ baseUrl, seconds: 600, seed: 16 });  // bench/chaos.ts
import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { mutated, toJsonText, valid, HUGE_NUMBERS, type JsonSchema, type Known, type SchemaContext } from './schema-arbitrary.ts';

export interface HttpFuzzOptions {
  readonly baseUrl: string;
  /** Requests to send; or */
  readonly count?: number;
  /** send for this long. */
  readonly seconds?: number;
  readonly seed: number;
  /** Bearer token, sent with most requests (not all: a request without it must get a JSON 401). */
  readonly token?: string;
  /** Requests in flight at once (default 4). */
  readonly concurrency?: number;
  /** A request with no answer after this long is a problem (default 60 s: past the server's own timeout). */
  readonly requestTimeoutMs?: number;
}

export interface FuzzProblem {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly status: number | 'no answer';
  readonly why: string;
  readonly answer: string;
}

export interface HttpFuzzResult {
  readonly requests: number;
  /** Server errors that are not deliberate: any 5xx except 501 not_implemented and 503 with a JSON error. */
  readonly status5xx: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly p99Ms: number;
  /** Every answer that broke a rule (up to 50 kept), with the request that got it. */
  readonly problems: readonly FuzzProblem[];
  readonly problemCount: number;
}

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly headers: Record<string, string>;
}

interface Operation {
  readonly method: string;
  readonly template: string;
  readonly pathParams: readonly { name: string; schema: JsonSchema }[];
  readonly query: JsonSchema & { properties: Record<string, JsonSchema> };
  readonly body?: JsonSchema;
}

type OpenApi = {
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string; schema: JsonSchema }[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>
  >;
  components?: { schemas?: Record<string, JsonSchema> };
};

/** Methods Node parses that the server does not implement, and tokens Node's parser refuses. */
const ODD_METHODS = [
  'TRACE',
  'PROPFIND',
  'PROPPATCH',
  'SEARCH',
  'PURGE',
  'MKCOL',
  'LOCK',
  'UNLOCK',
  'COPY',
  'MOVE',
  'QUERY',
  'LINK',
  'UNLINK',
  'REPORT',
  'MKCALENDAR',
  'FOO',
  'get',
] as const;
const ODD_BODIES = [
  '{',
  '[1,',
  'nul',
  '{"a":}',
  '\u0000',
  '"\ud800"',
  '{"node": 1e400}',
  `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`,
  '[]',
  'null',
  '""',
  '{}',
  '{"__proto__": {"polluted": 1}}',
  '{"constructor": {"prototype": {"x": 1}}}',
] as const;
const ODD_PATHS = [
  '/',
  '/docs',
  '/openapi.json',
  '/ui/app.js',
  '/ui/..%2f..%2fpackage.json',
  '/ui/%2e%2e/package.json',
  '/docs/assets/..%2Fpackage.json',
  '/%',
  '/%E0%A4%A',
  '/api/assets/%',
  '/api/runs/%ZZ',
  '/api//runs',
  `/${'a'.repeat(4000)}`,
  '/predict/',
  '/PREDICT',
  '/api/assets/pjm%2Fmodel%00',
  '/metrics?x=%',
] as const;

/** Sends fuzzed requests to `baseUrl` and reports what came back. */
export async function runHttpFuzz(options: HttpFuzzOptions): Promise<HttpFuzzResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency ?? 4 });
  try {
    const doc = (await getJson(options.baseUrl, '/openapi.json')) as OpenApi;
    const known = await knownValues(options.baseUrl);
    const ctx: SchemaContext = { resolve: (ref) => doc.components?.schemas?.[ref.replace('#/components/schemas/', '')], known };
    const arbitrary = requestArbitrary(operationsOf(doc), ctx, options.token);
    const stats = new Stats();
    const deadline = options.seconds === undefined ? Infinity : Date.now() + options.seconds * 1000;
    const total = options.count ?? Infinity;
    // Generate in rounds of 100 (seed, seed + 1, ...) so that a time-bound run and a counted
    // one send the same requests in the same order.
    for (let round = 0; stats.requests < total && Date.now() < deadline; round++) {
      const n = Math.min(100, total - stats.requests);
      const batch = fc.sample(arbitrary, { seed: options.seed + round, numRuns: n });
      await pool(batch, options.concurrency ?? 4, async (req) => {
        if (Date.now() >= deadline) return;
        stats.record(req, await send(agent, options.baseUrl, req, options.requestTimeoutMs ?? 60_000));
      });
    }
    return stats.result();
  } finally {
    agent.destroy();
  }
}

function operationsOf(doc: OpenApi): Operation[] {
  const ops: Operation[] = [];
  for (const [template, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      const query: Record<string, JsonSchema> = {};
      for (const p of params.filter((x) => x.in === 'query')) query[p.name] = p.schema;
      const body = op.requestBody?.content['application/json']?.schema;
      ops.push({
        method: method.toUpperCase(),
        template,
        pathParams: params.filter((x) => x.in === 'path').map((p) => ({ name: p.name, schema: p.schema })),
        query: { type: 'object', properties: query },
        ...(body ? { body } : {}),
      });
    }
  }
  return ops;
}

/** One request: mostly an operation as documented (valid or mutated), sometimes something no schema describes. */
function requestArbitrary(ops: readonly Operation[], ctx: SchemaContext, token: string | undefined): fc.Arbitrary<FuzzRequest> {
  const documented = fc.constantFrom(...ops).chain((op) => operationRequest(op, ctx));
  const oddMethod = fc.tuple(
    fc.constantFrom(...ODD_METHODS),
    fc.oneof(fc.constantFrom(...ops.map((o) => o.template.replace(/\{[^}]+\}/g, 'x'))), fc.constantFrom(...ODD_PATHS)),
    fc.option(fc.constantFrom(...ODD_BODIES)),
  );
  const badBody = fc.tuple(
    fc.constantFrom(...ops.filter((o) => o.body)),
    fc.constantFrom(...ODD_BODIES),
    fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', ''),
  );
  const oddPath = fc.tuple(fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS', 'PUT', 'PATCH'), fc.constantFrom(...ODD_PATHS));
  return fc
    .tuple(
      fc.oneof(
        { arbitrary: documented, weight: 12 },
        { arbitrary: oddMethod.map(([method, path, body]): Omit<FuzzRequest, 'headers'> => ({ method, path, ...(body === null ? {} : { body }) })), weight: 2 },
        {
          arbitrary: badBody.map(([op, body, type]): Omit<FuzzRequest, 'headers'> & { type: string } => ({
            method: op.method,
            path: fillTemplate(op.template, {}),
            body,
            type,
          })),
          weight: 2,
        },
        { arbitrary: oddPath.map(([method, path]): Omit<FuzzRequest, 'headers'> => ({ method, path })), weight: 1 },
      ),
      fc.integer({ min: 0, max: 9 }),
    )
    .map(([req, dice]) => {
      const headers: Record<string, string> = {};
      const type = (req as { type?: string }).type;
      if (req.body !== undefined && type !== '') headers['content-type'] = type ?? 'application/json';
      if (token && dice > 0) headers['authorization'] = `Bearer ${token}`;
      return { method: req.method, path: req.path, ...(req.body === undefined ? {} : { body: req.body }), headers };
    });
}

function operationRequest(op: Operation, ctx: SchemaContext): fc.Arbitrary<Omit<FuzzRequest, 'headers'>> {
  const params = fc.record(
    Object.fromEntries(op.pathParams.map((p) => [p.name, fc.oneof({ arbitrary: valid(p.schema, ctx, p.name), weight: 4 }, { arbitrary: oddText, weight: 1 })])),
  );
  const query = fc.oneof(
    { arbitrary: valid(op.query, ctx), weight: 3 },
    { arbitrary: mutated(op.query, ctx), weight: 2 },
    { arbitrary: fc.dictionary(fc.constantFrom(...Object.keys(op.query.properties), 'x', ''), oddText, { maxKeys: 3 }), weight: 1 },
  );
  const body = op.body ? fc.oneof({ arbitrary: valid(op.body, ctx), weight: 3 }, { arbitrary: mutated(op.body, ctx), weight: 3 }) : fc.constant(undefined);
  return fc.tuple(params, query, body, fc.boolean()).map(([p, q, b, repeatKey]) => {
    const search = queryString(q as Record<string, unknown>, repeatKey);
    return { method: op.method, path: fillTemplate(op.template, p as Record<string, unknown>) + search, ...(b === undefined ? {} : { body: toJsonText(b) }) };
  });
}

/** Text a query value or path segment may be: numbers beyond what JS holds, bad escapes, nothing. */
const oddText = fc.oneof(
  fc.constantFrom(...HUGE_NUMBERS, '', '%', '%ZZ', '-1', '0', 'NaN', 'Infinity', 'true', '[]', '9999-99-99', '2018-13-01', '💥', 'a'.repeat(500)),
  fc.string({ maxLength: 12 }),
);

function fillTemplate(template: string, params: Record<string, unknown>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => encodePathValue(params[name] ?? 'x'));
}

/** Path values as a client would escape them; a value that is already a raw escape (`%ZZ`) is sent as is. */
function encodePathValue(v: unknown): string {
  const text = typeof v === 'object' && v !== null && 'text' in v ? String((v as { text: string }).text) : String(v);
  return /^%/.test(text) ? text : encodeURIComponent(text);
}

function queryString(q: Record<string, unknown>, repeatKey: boolean): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    const text =
      typeof v === 'object' && v !== null && 'text' in v ? String((v as { text: string }).text) : typeof v === 'object' ? JSON.stringify(v) : String(v);
    const value = /^%/.test(text) ? text : encodeURIComponent(text);
    parts.push(`${encodeURIComponent(k)}=${value}`);
    if (repeatKey) parts.push(`${encodeURIComponent(k)}=${value}`);
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** Asset keys, run ids, materialization ids, node ids and days the server knows, to get past lookups. */
async function knownValues(base: string): Promise<Known> {
  const tryJson = (path: string) => getJson(base, path).catch(() => undefined) as Promise<Record<string, unknown> | undefined>;
  const graph = await tryJson('/api/graph');
  const keys = ((graph?.['nodes'] as { key: string }[] | undefined) ?? []).map((n) => n.key);
  const runs = ((await tryJson('/api/runs?limit=20'))?.['runs'] as { id: string }[] | undefined)?.map((r) => r.id) ?? [];
  const materializations: number[] = [];
  for (const key of keys.slice(0, 5)) {
    const view = await tryJson(`/api/assets/${encodeURIComponent(key)}`);
    const id = (view?.['current'] as { materializationId?: number } | null | undefined)?.materializationId;
    if (typeof id === 'number') materializations.push(id);
  }
  const model = await tryJson('/model');
  const nodes = Object.keys(((model?.['target'] as { transform?: { byNode?: object } } | undefined)?.transform?.byNode ?? {}) as object).map(Number);
  const window = model?.['window'] as { firstDay?: string; lastDay?: string } | undefined;
  const days = window?.lastDay ? daysAround(window.lastDay) : [];
  const featureNames = (model?.['featureNames'] as string[] | undefined) ?? [];
  return { key: keys, id: [...runs, ...materializations], node: nodes, date: days, week: days, selection: [], 'features:keys': featureNames };
}

/** The week before and after `day`, where a served model's inputs are. */
function daysAround(day: string): string[] {
  const t = Date.parse(`${day}T00:00:00Z`);
  return Array.from({ length: 15 }, (_, i) => new Date(t + (i - 7) * 86_400_000).toISOString().slice(0, 10));
}

interface Answer {
  readonly status: number | 'no answer';
  readonly contentType: string;
  readonly text: string;
  readonly ms: number;
}

function send(agent: Agent, base: string, req: FuzzRequest, timeoutMs: number): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Omit<Answer, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...a, ms: performance.now() - started });
    };
    const headers = req.body === undefined ? req.headers : { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) };
    const r = request(`${base}${req.path.startsWith('/') ? '' : '/'}${req.path}`, { method: req.method, headers, agent, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      // Keep the start of a body: enough to check it and to show it.
      res.on('data', (d: string) => {
        if (text.length < 4096) text += d;
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text }));
      res.on('error', (err) => done({ status: 'no answer', contentType: '', text: `response error: ${err.message}` }));
    });
    r.on('timeout', () => {
      done({ status: 'no answer', contentType: '', text: `no answer within ${timeoutMs} ms` });
      r.destroy();
    });
    r.on('error', (err) => done({ status: 'no answer', contentType: '', text: `request error: ${err.message}` }));
    r.end(req.body);
  });
}

/** Why an answer breaks the rules, or undefined when it keeps them. */
function judge(req: FuzzRequest, a: Answer): string | undefined {
  if (a.status === 'no answer') return a.text;
  const bodyless = req.method === 'HEAD' || a.status === 204 || a.status === 304;
  let code: unknown;
  if (a.status >= 400 && !bodyless) {
    try {
      code = (JSON.parse(a.text) as { error?: { code?: unknown } }).error?.code;
    } catch {
      return 'an error answer that is not JSON';
    }
    if (typeof code !== 'string') return 'an error answer without error.code';
  }
  if (a.status >= 500) {
    if (a.status === 501 && (bodyless || code === 'not_implemented')) return undefined;
    if (a.status === 503 && (bodyless || typeof code === 'string')) return undefined;
    return `server error ${a.status}`;
  }
  if (a.status < 400 && !bodyless && a.contentType.startsWith('application/json') && a.text.length < 4096) {
    try {
      JSON.parse(a.text);
    } catch {
      return 'a JSON answer that does not parse';
    }
  }
  return undefined;
}

class Stats {
  requests = 0;
  #status5xx = 0;
  readonly #byStatus: Record<string, number> = {};
  readonly #ms: number[] = [];
  readonly #problems: FuzzProblem[] = [];
  #problemCount = 0;

  record(req: FuzzRequest, a: Answer): void {
    this.requests++;
    this.#byStatus[String(a.status)] = (this.#byStatus[String(a.status)] ?? 0) + 1;
    this.#ms.push(a.ms);
    const why = judge(req, a);
    if (why === undefined) return;
    if (typeof a.status === 'number' && a.status >= 500) this.#status5xx++;
    this.#problemCount++;
    if (this.#problems.length < 50) {
      this.#problems.push({
        method: req.method,
        path: req.path.slice(0, 300),
        ...(req.body === undefined ? {} : { body: req.body.slice(0, 300) }),
        status: a.status,
        why,
        answer: a.text.slice(0, 300),
      });
    }
  }

  result(): HttpFuzzResult {
    const sorted = [...this.#ms].sort((x, y) => x - y);
    const p99 = sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
    return {
      requests: this.requests,
      status5xx: this.#status5xx,
      byStatus: { ...this.#byStatus },
      p99Ms: Math.round(p99 * 10) / 10,
      problems: [...this.#problems],
      problemCount: this.#problemCount,
    };
  }
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, concurrency) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function getJson(base: string, path: string): Promise<unknown> {
  const res = await fetch(`${base}${path}`);
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return res.json();
}
