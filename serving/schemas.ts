// The JSON Schemas (TypeBox) of the server's requests and responses. The validator compiles
// these and the OpenAPI document publishes them: one definition each, no drift.
import { Type as T, type Static } from '@sinclair/typebox';
import { QUANTILE_LEVELS } from '../lib/forecast-eval/index.ts';

export const ErrorResponse = T.Object(
  {
    error: T.Object(
      {
        code: T.String({ description: 'Stable machine-readable code, e.g. validation_failed, missing_inputs, no_model.' }),
        message: T.String({ description: 'What went wrong and what to do, in one or two sentences.' }),
        requestId: T.String({ description: 'Echoes the X-Request-Id header; quote it when reporting a problem.' }),
      },
      { additionalProperties: true },
    ),
  },
  { title: 'Error' },
);

/**
 * An integer a JavaScript number holds exactly (|n| <= 2^53 - 1). JSON can spell larger ones
 * (12345678901234567890) and they would arrive rounded; every integer of a request uses this.
 */
export const SafeInteger = (options: { minimum?: number; maximum?: number; default?: number; description?: string } = {}) =>
  T.Integer({ ...options, minimum: options.minimum ?? Number.MIN_SAFE_INTEGER, maximum: options.maximum ?? Number.MAX_SAFE_INTEGER });

export const NodeRef = T.Union([SafeInteger({ minimum: 0 }), T.String({ minLength: 1, maxLength: 200 })], {
  description: 'a PJM pnode id (integer) or a node name such as "WESTERN HUB"',
});
// An enum rather than a union of literals: one clear validation message ("must be one of").
export const Market = T.Unsafe<'da' | 'rt'>({ type: 'string', enum: ['da', 'rt'], description: '"da" day-ahead or "rt" real-time.' });
export const IsoDay = T.String({
  format: 'date',
  description: 'an EPT delivery day, YYYY-MM-DD',
  examples: ['2017-01-10'],
});

export const PredictRequest = T.Object(
  {
    node: NodeRef,
    market: Market,
    date: IsoDay,
    explain: T.Optional(T.Boolean({ description: 'Also return SHAP contributions of each hour by feature name.', default: false })),
  },
  { additionalProperties: false },
);
export type PredictRequest = Static<typeof PredictRequest>;

export const PredictBatchRequest = T.Object(
  {
    nodes: T.Array(NodeRef, { minItems: 1, maxItems: 100 }),
    market: Market,
    dates: T.Array(IsoDay, { minItems: 1, maxItems: 31 }),
    explain: T.Optional(T.Boolean({ default: false })),
  },
  { additionalProperties: false, description: 'Every node × every date; at most 500 node-days.' },
);
export type PredictBatchRequest = Static<typeof PredictBatchRequest>;

export const FeatureValues = T.Record(T.String(), T.Union([T.Number(), T.Null()]), {
  description: 'Feature values by name (null = missing); GET /model lists the names the model needs.',
});

export const PredictFeaturesRequest = T.Object(
  {
    node: NodeRef,
    market: Market,
    rows: T.Array(T.Object({ features: FeatureValues }, { additionalProperties: false }), { minItems: 1, maxItems: 1000 }),
    explain: T.Optional(T.Boolean({ default: false })),
  },
  { additionalProperties: false },
);
export type PredictFeaturesRequest = Static<typeof PredictFeaturesRequest>;

export const ModelRef = T.Object({
  materializationId: T.Integer(),
  dataVersion: T.String({ description: 'Content hash of the model file: the model version.' }),
  codeVersion: T.String(),
  trainedAt: T.String({ format: 'date-time' }),
});

export const Explanation = T.Object(
  {
    members: T.Array(
      T.Object({
        member: T.String({ description: 'Ensemble member (variant) name.' }),
        target: T.String({ description: 'What the member predicts: level, change_lag1 (change from D-1), change_lag7 (change from D-7).' }),
        bias: T.Number(),
        contributions: T.Record(T.String(), T.Number(), { description: 'SHAP contribution of each feature.' }),
      }),
    ),
  },
  {
    description:
      "SHAP values (XGBoost pred_contribs) of each ensemble member, in that member's output space: the per-node " +
      'z = asinh((p - median) / scale) space of its target; bias + the sum of contributions = the member output. ' +
      'The forecast is the mean over members of median + scale * sinh(z + base), base being z of the reference price for change targets. ' +
      "With LEAR served (the answer's family), these explain the XGBoost part of the forecast only.",
  },
);

/**
 * The quantiles of one hour's price: one per level of QUANTILE_LEVELS, in that order, with values
 * that never decrease. JSON Schema cannot say "non-decreasing"; the description does, and the
 * server guarantees it (the calibration's offsets are sorted by level).
 */
export const HourQuantiles = T.Array(
  T.Object(
    {
      level: T.Unsafe<number>({ type: 'number', enum: [...QUANTILE_LEVELS], description: 'The probability that the price is at most `value`.' }),
      value: T.Number({ description: '$/MWh' }),
    },
    { additionalProperties: false },
  ),
  {
    minItems: QUANTILE_LEVELS.length,
    maxItems: QUANTILE_LEVELS.length,
    description:
      `Quantiles of the price at levels ${QUANTILE_LEVELS.join(', ')}, in that order; each value is at least the one before (monotone in the level). ` +
      "Each is the forecast plus the model's per-hour conformal quantile of its walk-forward residuals (GET /model: calibration). " +
      '[0.25, 0.75] is the 50 % interval, [0.05, 0.95] the 90 % one. Absent when the model has no calibration (its backtest too short, or trained before calibrations).',
  },
);

export const HourForecast = T.Object({
  hour: T.Integer({ minimum: 0, maximum: 23, description: 'The EPT 24-hour grid hour the value comes from (the model forecasts on that grid).' }),
  ts_utc: T.String({ format: 'date-time' }),
  ts_ept: T.String({ description: 'Start of the hour in US Eastern prevailing time, with its offset.' }),
  value: T.Number({ description: "Forecast LMP, $/MWh: the served family's (GET /model: family)." }),
  quantiles: T.Optional(HourQuantiles),
  note: T.Optional(T.String({ description: 'Set on the fall-back day: both 01:00 hours carry the one grid-hour-1 forecast.' })),
  explanation: T.Optional(Explanation),
});

export const ServedFamily = T.Object(
  {
    served: T.Unsafe<'lear' | 'ensemble'>({
      type: 'string',
      enum: ['lear', 'ensemble'],
      description: 'PJM_MODEL_FAMILIES of the model: LEAR alone, or the ensemble of XGBoost and LEAR.',
    }),
    weights: T.Object(
      { xgboost: T.Number(), lear: T.Number() },
      {
        additionalProperties: false,
        description: "Each family's weight in the served mean per hour (lear: LEAR alone, XGBoost only where LEAR has no forecast).",
      },
    ),
    learWindows: T.Array(T.Integer(), {
      description: "The LEAR calibration windows (days) fitted for this node, whose forecasts are averaged (CWA); empty when the node's history held none.",
    }),
    learFallback: T.Union([T.Null(), T.String()], {
      description:
        "Null when LEAR forecast this node-day. Else why it could not (its inputs of D-1..D-7 incomplete, or no LEAR for the node): the values are then XGBoost's alone, as in the backtest.",
    }),
  },
  { additionalProperties: false, description: 'Set when the model serves LEAR (GET /model: family); absent for XGBoost alone.' },
);

export const NodeInfo = T.Object({ id: T.Integer(), name: T.Union([T.String(), T.Null()]), zone: T.Union([T.String(), T.Null()]) });

export const DayForecast = T.Object({
  node: NodeInfo,
  market: Market,
  date: IsoDay,
  model: ModelRef,
  inputs: T.Object(
    {
      dataVersions: T.Record(T.String(), T.String(), {
        description: 'Data version of each validated partition the features were built from (with LEAR served, those of D-1 and D-7 too).',
      }),
    },
    { description: 'The validated data the features came from.' },
  ),
  family: T.Optional(ServedFamily),
  forecasts: T.Array(HourForecast, {
    minItems: 23,
    maxItems: 25,
    description: 'One per real hour of the EPT day, in time order: 24, or 23 on the spring-forward day and 25 on the fall-back day.',
  }),
});

export const PredictResponse = DayForecast;

export const BatchItemError = T.Object({
  node: NodeRef,
  date: IsoDay,
  error: T.Object({ code: T.String(), message: T.String() }, { additionalProperties: true }),
});

export const PredictBatchResponse = T.Object({
  model: ModelRef,
  results: T.Array(T.Union([DayForecast, BatchItemError]), { description: 'One per node × date, nodes outer; a failed item carries `error`.' }),
});

export const PredictFeaturesResponse = T.Object({
  node: NodeInfo,
  market: Market,
  model: ModelRef,
  predictions: T.Array(T.Object({ value: T.Number(), explanation: T.Optional(Explanation) })),
  note: T.Optional(
    T.String({
      description:
        "Set when the model serves LEAR: these values are the XGBoost members' alone (LEAR reads several days of rows; POST /predict gives the served family's forecast).",
    }),
  ),
});
