// The web UI's JSON API under /api (graph, assets, partitions, lineage, runs,
// live events, materialize) and the static front end at `/`, as one route
// module of the server, assembled from one route module per resource (./routes/). Every /api route is documented in the OpenAPI document
// from the schemas in ./schemas.ts. The mutating routes (POST /api/materialize,
// POST /api/runs/:id/cancel) are guarded by the app's auth whenever
// SERVING_API_TOKEN is set; reads stay open, as for the rest of the server.
import type { Router } from '@koa/router';
import type { Instance } from '../../runtime/index.ts';
import type { OpenApiRegistry, RouteModule, ServerDeps } from '../routes.ts';
import { registerAssetRoutes } from './routes/assets.ts';
import { registerGraphRoutes } from './routes/graph.ts';
import { registerLaunchRoutes } from './routes/launch.ts';
import { registerLineageRoutes } from './routes/lineage.ts';
import { registerRunRoutes } from './routes/runs.ts';
import { registerScoreRoutes } from './routes/scores.ts';
import type { ForecastScores } from '../data/forecast-scores.ts';
import { TAG } from './routes/shared.ts';
import * as S from './schemas.ts';
import { registerStaticUi } from './static-files.ts';
import { UiState } from './ui-state.ts';

/** Registers the /api routes and the static UI on `router` (the module's body; tests may call it directly). */
export function registerUiApi(router: Router, spec: OpenApiRegistry, state: UiState, scores: ForecastScores): void {
  spec.tag(TAG, 'The web lineage UI: asset graph, status with causes, lineage, runs and their live events, materialize.');
  spec.schema(S.LINEAGE_GROUP_NAME, S.LineageGroupSchema);

  registerGraphRoutes(router, spec, state);
  registerAssetRoutes(router, spec, state);
  registerLineageRoutes(router, spec, state);
  registerRunRoutes(router, spec, state);
  registerLaunchRoutes(router, spec, state);
  registerScoreRoutes(router, spec, scores);
  registerStaticUi(router);
}

const states = new WeakMap<Instance<unknown>, UiState>();

/** The UI's route module, for the server's module list in serving/app.ts. */
export const uiApiRoutes: RouteModule = {
  name: 'ui-api',
  register(router: Router, spec: OpenApiRegistry, deps: ServerDeps): void {
    const state = new UiState(deps.instance, {
      queue: deps.config.runQueue,
      onRunError: (runId, error) => deps.log.error({ runId, err: error }, 'a run started from the UI ended with an error'),
    });
    states.set(deps.instance, state);
    registerUiApi(router, spec, state, deps.scores);
    // Compute the graph view once in the background, so the first visit does not wait for it.
    setImmediate(() => {
      state.graph().catch((err: unknown) => deps.log.warn({ err }, 'could not precompute the UI graph view; it will be computed on the first request'));
    });
  },
  /** Cancels the runs the UI started in this process and waits for them to stop (they end `canceled`). */
  async close(deps: ServerDeps): Promise<void> {
    await states.get(deps.instance)?.close();
  },
};

export { UiState } from './ui-state.ts';
