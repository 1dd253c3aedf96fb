// GET /model: what the serving model is: its family (XGBoost, LEAR or their ensemble: members,
// windows, weights), its features, training window, settings, metrics
// (its own and the current backtest's), the calibration its quantiles come from, members (rounds, importance, learning curve) and
// lineage (the materializations it consumed, from the lineage store).
import { Type as T } from '@sinclair/typebox';
import { assetKey, type AssetKey } from '../../runtime/index.ts';
import { ASSET_KEYS } from '../../assets/pjm/forecasting.ts';
import { lineageOf } from '../../runtime/lineage.ts';
import { HttpError } from '../http/errors.ts';
import { addRoute, type RouteModule } from '../routes.ts';
import { modelRef } from '../predict/service.ts';
import { ModelRef } from '../schemas.ts';
import type { ModelSidecar } from '../../assets/pjm/forecasting.ts';

const BACKTEST_ASSET: AssetKey = assetKey(ASSET_KEYS.backtest);
const MAX_BACKTEST_METADATA_BYTES = 256 * 1024;

const ModelInfo = T.Object(
  {
    model: ModelRef,
    market: T.String(),
    featureNames: T.Array(T.String()),
    target: T.Unknown({ description: 'Target definition and per-node price transform.' }),
    window: T.Unknown({ description: 'Training window: first/last day, validation split, row counts.' }),
    settings: T.Unknown({ description: 'XGBoost parameters and training settings.' }),
    members: T.Array(T.Unknown(), { description: 'The XGBoost members: rounds, best iteration, learning curve, feature importance.' }),
    family: T.Object(
      {
        served: T.Unsafe<'xgboost' | 'lear' | 'ensemble'>({
          type: 'string',
          enum: ['xgboost', 'lear', 'ensemble'],
          description: 'PJM_MODEL_FAMILIES when the model was trained: what /predict forecasts with.',
        }),
        members: T.Array(
          T.Object({
            family: T.Unsafe<'xgboost' | 'lear'>({ type: 'string', enum: ['xgboost', 'lear'] }),
            weight: T.Number({ description: "The family's weight in the served mean per hour." }),
            detail: T.String(),
          }),
          { description: 'The families the served forecast combines.' },
        ),
        combination: T.String({ description: 'How the families are combined per hour, and what happens where LEAR has no forecast.' }),
        learWindows: T.Array(T.Integer(), { description: 'PJM_LEAR_WINDOWS: the LEAR calibration windows averaged (CWA), in days; empty for XGBoost alone.' }),
        lear: T.Union([T.Null(), T.Array(T.Unknown())], {
          description: 'Per node: its exogenous series and each fitted window with the days it was fitted on (firstDay..lastDay). Null for XGBoost alone.',
        }),
      },
      { description: 'The served family (sidecar format pjm-lmp/2; a pjm-lmp-xgb/1 sidecar is XGBoost alone).' },
    ),
    metrics: T.Unknown({ description: 'Metrics stored with the model.' }),
    calibration: T.Union([T.Null(), T.Unknown()], {
      description:
        "Where /predict's quantiles come from: per-hour conformal quantiles of the served family's walk-forward residuals (method, levels, offsets[hour][level] in $/MWh, residualsPerHour, firstDay..lastDay). Null: the model has none, so /predict answers without quantiles.",
    }),
    backtest: T.Union([T.Null(), T.Object({ materializationId: T.Integer(), dataVersion: T.String(), metadata: T.Unknown() })], {
      description: 'The current pjm/backtest materialization and its report (metadata), if any.',
    }),
    lineage: T.Unknown({ description: 'The materializations the model consumed, grouped by asset (lineageOf, depth 2).' }),
  },
  { title: 'ModelInfo' },
);

export const modelRoutes: RouteModule = {
  name: 'model',
  register(router, spec, deps) {
    spec.tag('model', 'The serving model.');
    addRoute(router, spec, {
      method: 'get',
      path: '/model',
      operationId: 'getModel',
      tags: ['model'],
      summary: "The current model's features, training window, metrics and lineage",
      responses: { 200: { description: 'The serving model.', schema: ModelInfo, schemaName: 'ModelInfo' } },
      errors: { 503: 'No model is loaded yet; the message says why.' },
      handler: async (ctx) => {
        const m = deps.models.current();
        if (!m) throw new HttpError(503, 'no_model', deps.models.unavailableReason, undefined, { 'Retry-After': '5' });
        const store = deps.instance.store;
        const backtest = await store.current(BACKTEST_ASSET, '');
        let backtestInfo: unknown = null;
        if (backtest) {
          const metadata = (await store.materialization(backtest.id))?.metadata ?? {};
          const size = JSON.stringify(metadata).length;
          backtestInfo = {
            materializationId: backtest.id,
            dataVersion: backtest.dataVersion,
            metadata:
              size <= MAX_BACKTEST_METADATA_BYTES
                ? metadata
                : { omitted: `The backtest metadata is ${size} bytes; read materialization ${backtest.id} from the lineage store.` },
          };
        }
        const s = m.sidecar;
        ctx.body = {
          model: { ...modelRef(m), loadedAt: m.loadedAt, runId: m.runId },
          market: s.market,
          featureNames: s.featureNames,
          target: s.target,
          window: s.window,
          settings: s.settings,
          members: s.members,
          family: familyInfo(s),
          metrics: s.metrics,
          calibration: s.calibration ?? null,
          backtest: backtestInfo,
          lineage: (await lineageOf(store, m.materializationId, { depth: 2 })) ?? null,
        };
      },
    });
  },
};

/** The served family as GET /model shows it, from the sidecar (format 1: XGBoost alone). */
function familyInfo(s: ModelSidecar): unknown {
  const xgb = `${s.members.length} XGBoost member(s): ${s.members.map((m) => m.variant.name).join(', ')}`;
  const f = s.families;
  if (f === undefined)
    return {
      served: 'xgboost',
      members: [{ family: 'xgboost', weight: 1, detail: xgb }],
      combination: "the mean of the XGBoost members' price forecasts",
      learWindows: [],
      lear: null,
    };
  return {
    served: f.choice,
    members: [
      { family: 'xgboost', weight: f.weights.xgboost, detail: xgb },
      {
        family: 'lear',
        weight: f.weights.lear,
        detail: `LEAR per node and hour on the ${f.lear.windows.join('/')}-day windows, averaged (${f.lear.nodes.length} node(s))`,
      },
    ],
    combination: f.combination,
    learWindows: f.lear.windows,
    lear: f.lear.nodes,
  };
}
