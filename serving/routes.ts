// The contract every route module follows, so modules written by different people plug
// into the one app: a module registers its handlers on the router and documents them in
// the one OpenAPI document, using only what `ServerDeps` hands it. `addRoute` does both at
// once from a single definition, which is how validation and docs stay the same thing.
//
//   export const myRoutes: RouteModule = {
//     name: 'my',
//     register(router, spec, deps) {
//       addRoute(router, spec, { method: 'get', path: '/things/:id', summary: '...', params: T.Object({ id: T.String() }),
//         responses: { 200: { description: 'The thing', schema: Thing } }, handler: (ctx, { params }) => { ctx.body = ... } });
//     },
//   };
import type { Router, RouterContext } from '@koa/router';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Instance } from '../runtime/index.ts';
import type { ServingConfig } from './config.ts';
import type { ModelRegistry } from './model/registry.ts';
import type { FeatureService } from './data/feature-service.ts';
import { refuseStateChange, type Auth } from './http/middleware/auth.ts';
import type { ServingMetrics } from './metrics.ts';
import type { PredictService } from './predict/service.ts';
import type { PredictLane } from './http/predict-lane.ts';
import type { ForecastScores } from './data/forecast-scores.ts';
import { BEARER_SCHEME, toSchemaObject, type HttpMethod, type OpenApiRegistry } from './http/openapi.ts';
import { validate } from './http/validate.ts';
import { ErrorResponse } from './schemas.ts';

export type { OpenApiRegistry, HttpMethod } from './http/openapi.ts';
export { HttpError, type ErrorCode } from './http/errors.ts';

/** What a route may use. Nothing else is global: tests build these directly. */
export interface ServerDeps {
  /** The asset runtime over DATA_DIR: graph, lineage store, storage, materialize. */
  readonly instance: Instance<unknown>;
  /** The current model (hot-swapped when a new `pjm/model` materialization becomes current). */
  readonly models: ModelRegistry;
  /** Feature rows of (node, market, day) over the latest validated data, cached by data version. */
  readonly features: FeatureService;
  /** Bearer-token auth (when configured); the app already enforces it on every mutating method. */
  readonly auth: Auth;
  /** Structured JSON logger (pino); per-request child loggers are `ctx.state.log`. */
  readonly log: Logger;
  readonly config: ServingConfig;
  /** Prometheus metrics (prom-client); `metrics.registry` to add a module's own. */
  readonly metrics: ServingMetrics;
  /** The prediction use cases (one node-day, batches, feature rows), with the answer cache. */
  readonly predictions: PredictService;
  /** The cached lane of POST /predict in front of Koa (serving/http/predict-lane.ts). */
  readonly predictLane: PredictLane;
  /** Live accuracy of the served forecasts (pjm/forecast_score), for /metrics and the UI. */
  readonly scores: ForecastScores;
  /**
   * Where the server's own warm-up requests (serving/warmup.ts) write their access lines and
   * request metrics: a logger to the null device and a registry nobody scrapes, so that code
   * runs (and gets optimized) before /ready while `log` and `metrics` show only clients.
   */
  readonly warmUpSinks: RequestSinks;
}

/** An access log and request metrics. */
export interface RequestSinks {
  readonly log: Logger;
  readonly metrics: ServingMetrics;
}

export interface RouteModule {
  /** Short name for logs ("predict", "ui-api"). */
  readonly name: string;
  register(router: Router, spec: OpenApiRegistry, deps: ServerDeps): void;
  /**
   * Stops what `register` started in the background (e.g. runs launched from the UI). The
   * server calls it on shutdown, after in-flight requests have drained.
   */
  close?(deps: ServerDeps): Promise<void>;
}

/** Per-request state every middleware and handler can read. */
export interface RequestState {
  readonly requestId: string;
  readonly log: Logger;
  /** Parsed JSON body (undefined when the request had none). */
  body?: unknown;
  /** The body as read, before parsing (the cached /predict lane remembers validated bodies by it). */
  rawBody?: string;
  /** The server's own start-up warm-up request (serving/warmup.ts): not logged, not counted. */
  warmup?: boolean;
  /**
   * Aborted when the request times out or its connection closes (the client left, or the
   * drain limit cut it): long work checks it between steps and stops (serving/http/middleware/timeout.ts).
   */
  signal?: AbortSignal;
  /** A mutating request from another host while no API token is set (serving/http/middleware/auth.ts). */
  remoteWithoutToken?: boolean;
}

export interface ResponseSpec {
  readonly description: string;
  /** JSON body schema; omitted for non-JSON responses. */
  readonly schema?: TSchema;
  /** Name under `#/components/schemas` for `schema` (else it is inlined). */
  readonly schemaName?: string;
  /** Default `application/json`. */
  readonly contentType?: string;
}

export interface RouteDefinition<B extends TSchema | undefined, Q extends TSchema | undefined, P extends TSchema | undefined> {
  readonly method: HttpMethod;
  /** Koa path (`/runs/:id`); documented as `/runs/{id}`. */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly operationId?: string;
  readonly body?: B;
  readonly bodyName?: string;
  readonly query?: Q;
  readonly params?: P;
  /** Non-error responses; 400/401/413/500 etc. are added from the shared error schema. */
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /**
   * Whether the route changes state (starts or cancels a run). Default: every mutating method
   * does. A POST that only computes an answer from its body (/predict) says `false`. Without an
   * API token, routes that change state answer only loopback callers (403 otherwise).
   */
  readonly changesState?: boolean;
  /** Error statuses the handler itself can answer with (documented with the error schema). */
  readonly errors?: Readonly<Record<number, string>>;
  readonly handler: (
    ctx: RouterContext,
    input: {
      body: B extends TSchema ? Static<B> : undefined;
      query: Q extends TSchema ? Static<Q> : undefined;
      params: P extends TSchema ? Static<P> : undefined;
    },
  ) => Promise<void> | void;
}

/** Methods that change state: these need the bearer token when one is configured. */
export function isMutating(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}

const openApiPath = (koaPath: string): string => koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Registers one handler with request validation and documents it, from one definition. */
export function addRoute<B extends TSchema | undefined = undefined, Q extends TSchema | undefined = undefined, P extends TSchema | undefined = undefined>(
  router: Router,
  spec: OpenApiRegistry,
  def: RouteDefinition<B, Q, P>,
): void {
  const errorRef = spec.schema('Error', ErrorResponse);
  const changesState = def.changesState ?? isMutating(def.method);
  const content = (r: ResponseSpec) =>
    r.schema === undefined
      ? r.contentType
        ? { [r.contentType]: {} }
        : undefined
      : { [r.contentType ?? 'application/json']: { schema: r.schemaName ? spec.schema(r.schemaName, r.schema) : toSchemaObject(r.schema) } };
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(def.responses)) responses[status] = { description: r.description, content: content(r) };
  const errors: Record<string, string | undefined> = {
    ...(def.body || def.query || def.params ? { 400: 'The request failed validation; `error.problems` names each field path.' } : {}),
    ...(isMutating(def.method) ? { 401: 'A bearer token is required (SERVING_API_TOKEN is set) and was missing or wrong.' } : {}),
    ...(changesState ? { 403: 'SERVING_API_TOKEN is not set, and without it this route answers only callers on the server machine (loopback).' } : {}),
    ...(def.body ? { 413: 'The body is larger than the limit.', 415: 'The body is not JSON.' } : {}),
    ...def.errors,
    500: 'Unexpected server error.',
  };
  for (const [status, description] of Object.entries(errors))
    if (description) responses[status] = { description, content: { 'application/json': { schema: errorRef } } };
  const parameters = [...schemaParameters(def.params, 'path'), ...schemaParameters(def.query, 'query')];
  spec.operation(def.method, openApiPath(def.path), {
    summary: def.summary,
    ...(def.description ? { description: def.description } : {}),
    ...(def.operationId ? { operationId: def.operationId } : {}),
    ...(def.tags ? { tags: [...def.tags] } : {}),
    ...(parameters.length ? { parameters: parameters as never } : {}),
    ...(def.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: def.bodyName ? spec.schema(def.bodyName, def.body as TSchema) : toSchemaObject(def.body as TSchema) } },
          },
        }
      : {}),
    ...(isMutating(def.method) ? { security: [{ [BEARER_SCHEME]: [] }, {}] } : {}),
    responses: responses as never,
  });
  router[def.method](def.path, async (ctx) => {
    const state = ctx.state as RequestState;
    if (changesState && state.remoteWithoutToken) throw refuseStateChange(ctx);
    const input = {
      body: (def.body ? validate(def.body, state.body, 'body') : undefined) as never,
      query: (def.query ? validate(def.query, { ...ctx.query }, 'query') : undefined) as never,
      params: (def.params ? validate(def.params, { ...ctx.params }, 'params') : undefined) as never,
    };
    await def.handler(ctx, input);
  });
}

function schemaParameters(schema: TSchema | undefined, where: 'path' | 'query'): object[] {
  if (!schema) return [];
  const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  const required = new Set((schema as { required?: string[] }).required ?? []);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(s.description ? { description: s.description as string } : {}),
    schema: toSchemaObject(s),
  }));
}
