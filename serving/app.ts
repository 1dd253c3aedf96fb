// Assembles the Koa app: a few small middlewares, outermost first, around the routes of
// every route module. Each middleware does one thing:
//   lifecycle      while draining (SIGTERM), asks clients to close kept-alive connections
//                  (in-flight requests are counted around the whole response: server.ts)
//   requestContext request id, per-request child logger, one access-log line
//   httpMetrics    request count and latency by route template
//   securityHeaders CSP, nosniff, no framing, no Referer, on every response
//   errorMapper    anything thrown -> JSON error with the right status
//   cors           off unless origins are configured (then not in the chain at all)
//   requestTimeout 503 after SERVING_REQUEST_TIMEOUT_MS; the request's abort signal
//   auth           bearer token on mutating methods when SERVING_API_TOKEN is set; without
//                  it, routes that change state answer only loopback callers
//   jsonBody       JSON body with a size limit (413)
// The route modules below register handlers and document them in the one OpenAPI document.
import Koa from 'koa';
import { Router } from '@koa/router';
import type { ServerDeps, RouteModule } from './routes.ts';
import { OpenApiDocument } from './http/openapi.ts';
import { requestContext } from './http/middleware/request-context.ts';
import { errorMapper } from './http/middleware/error-mapper.ts';
import { jsonBody } from './http/middleware/json-body.ts';
import { requestTimeout } from './http/middleware/timeout.ts';
import { authMiddleware } from './http/middleware/auth.ts';
import { cors } from './http/middleware/cors.ts';
import { securityHeaders } from './http/middleware/security-headers.ts';
import { httpMetrics } from './http/middleware/metrics.ts';
import { Lifecycle } from './lifecycle.ts';
import { healthRoutes } from './routes/health.ts';
import { predictRoutes } from './routes/predict.ts';
import { modelRoutes } from './routes/model.ts';
import { docsRoutes } from './routes/docs.ts';
import { uiApiRoutes } from './ui-api/index.ts';

/** The feature route modules, in registration order. Add a module here to serve it. */
export const ROUTE_MODULES: readonly RouteModule[] = [predictRoutes, modelRoutes, uiApiRoutes];

export interface BuiltApp {
  readonly app: Koa;
  readonly document: OpenApiDocument;
  readonly lifecycle: Lifecycle;
}

export function createApp(deps: ServerDeps, modules: readonly RouteModule[] = ROUTE_MODULES): BuiltApp {
  const app = new Koa({ proxy: false });
  // Koa logs every error itself unless told otherwise; errorMapper already logged it with the request id.
  app.silent = true;
  const lifecycle = new Lifecycle();
  const document = new OpenApiDocument({
    title: 'PJM LMP forecast API',
    version: '1.0.0',
    description: 'Hourly LMP forecasts from the current pjm/model materialization, over the latest validated PJM data.',
  });
  const router = new Router();
  for (const module of [healthRoutes(lifecycle), ...modules, docsRoutes(document)]) {
    module.register(router, document, deps);
    deps.log.debug({ module: module.name }, 'registered route module');
  }
  app
    .use(lifecycle.middleware())
    .use(requestContext(deps.log, deps.warmUpSinks.log))
    .use(httpMetrics(deps.metrics, deps.warmUpSinks.metrics))
    .use(securityHeaders())
    .use(errorMapper());
  // Each middleware is a closure and a promise on every request: leave out what does nothing.
  if (deps.config.corsOrigins.length > 0) app.use(cors(deps.config.corsOrigins));
  app
    .use(requestTimeout(deps.config.requestTimeoutMs))
    .use(authMiddleware(deps.auth))
    .use(jsonBody(deps.config.bodyLimitBytes))
    .use(router.routes())
    // Not `throw: true`: the router then drops the Allow header; errorMapper turns the
    // body-less 405/501 it leaves into JSON errors.
    .use(router.allowedMethods());
  return { app, document, lifecycle };
}
