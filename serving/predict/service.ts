// The prediction use cases behind /predict: one node-day, a batch of node-days, and
// caller-supplied feature rows. Each takes the current model once (so a whole answer comes
// from one model, even across a hot swap), gets feature rows from the feature service and
// forecasts with the forecasting code. Finished single answers are kept as JSON text under
// (model, feature key), and as UTF-8 bytes under the request as written: a repeated request
// is a map lookup, and its answer goes to the socket without being encoded again.
import { concatFeatureTables, featureTableFromRows, learInputDays, type FeatureTable } from '../../assets/pjm/forecasting.ts';
import { predictRows } from '../../assets/pjm/forecasting.ts';
import { servedFromAnswer, type Market } from '../../assets/pjm/forecasting.ts';
import type { DayFeatures, FeatureService, NodeInfo } from '../data/feature-service.ts';
import { Lru } from '../data/lru.ts';
import { HttpError } from '../http/errors.ts';
import type { ServingMetrics, Tally } from '../metrics.ts';
import type { ModelRegistry, ServedModel } from '../model/registry.ts';
import type { PredictBatchRequest, PredictFeaturesRequest, PredictRequest } from '../schemas.ts';
import { checkServes, explainRows, forecastDayWith, servedForecast, type Explanation, type HourForecast } from './forecast.ts';
import { checkBatchWork, checkpoint, checkRowsWork, ROWS_PER_NODE_DAY } from './work.ts';
import type { ServedForecastRecorder } from './served-recorder.ts';

export interface ModelRef {
  readonly materializationId: number;
  readonly dataVersion: string;
  readonly codeVersion: string;
  readonly trainedAt: string;
}

export interface DayForecastBody {
  readonly node: NodeInfo;
  readonly market: Market;
  readonly date: string;
  readonly model: ModelRef;
  readonly inputs: { readonly dataVersions: Readonly<Record<string, string>> };
  /** With LEAR served (PJM_MODEL_FAMILIES=lear or ensemble): the family, its weights, and LEAR's windows or why it fell back to XGBoost. */
  readonly family?: ServedFamilyNote;
  readonly forecasts: readonly HourForecast[];
}

export interface ServedFamilyNote {
  readonly served: 'lear' | 'ensemble';
  readonly weights: { readonly xgboost: number; readonly lear: number };
  readonly learWindows: readonly number[];
  readonly learFallback: string | null;
}

export const modelRef = (m: ServedModel): ModelRef => ({
  materializationId: m.materializationId,
  dataVersion: m.dataVersion,
  codeVersion: m.codeVersion,
  trainedAt: m.trainedAt,
});

interface RecentAnswer {
  readonly modelId: number;
  /** `ValidatedCatalog.generation` when the answer was made: any newer data invalidates it. */
  readonly generation: number;
  /** The answer as UTF-8 JSON, ready for the socket (Koa sends a Buffer as it is; a string it would encode per request). */
  readonly bytes: Buffer;
}

/** The answer cache's key: the node as written (id or name), market, day and options. */
const answerKey = (req: PredictRequest): string => `${typeof req.node === 'number' ? '#' : '@'}${req.node}|${req.market}|${req.date}|${req.explain ? 1 : 0}`;

export class PredictService {
  readonly #answers: Lru<string, string>;
  /** Answers by request as written (node ref, market, date, explain), valid for one model and one catalog generation. */
  readonly #recent: Lru<string, RecentAnswer>;

  /** Labelled counter children of the cached path, made once (prom-client hashes a labels object per call otherwise). */
  readonly #hits: Tally;
  readonly #okDays = new Map<string, Tally>();

  constructor(
    private readonly models: ModelRegistry,
    private readonly features: FeatureService,
    private readonly metrics: ServingMetrics,
    cacheSize = 10_000,
    /** Where answers for a day whose validated prices are not in yet are kept (to be scored); none: not kept. */
    private readonly served?: ServedForecastRecorder,
  ) {
    this.#answers = new Lru(cacheSize);
    this.#recent = new Lru(cacheSize);
    this.#hits = metrics.tally(metrics.featureCache, { result: 'hit' });
  }

  #okDay(market: Market): Tally {
    let child = this.#okDays.get(market);
    if (!child) this.#okDays.set(market, (child = this.metrics.tally(this.metrics.predictions, { market, form: 'day', outcome: 'ok' })));
    return child;
  }

  /**
   * One node-day as UTF-8 JSON bytes. `record: false` keeps the request out of the
   * prediction metrics (the server's own warm-up requests).
   */
  async day(req: PredictRequest, options: { record?: boolean } = {}): Promise<Buffer> {
    const record = options.record ?? true;
    const cached = this.cachedDay(req, { record });
    if (cached !== undefined) return cached;
    const explain = req.explain ?? false;
    const recentKey = answerKey(req);
    const compute = () =>
      this.models.use(async (served) => {
        const generation = this.features.catalog.generation;
        const body = await this.#day(served, req.node, req.market, req.date, explain, true, record);
        const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
        if (!explain) this.#recent.set(recentKey, { modelId: served.materializationId, generation, bytes });
        return bytes;
      });
    return record ? this.#count(req.market, 'day', compute) : compute();
  }

  /**
   * The answer to a repeated request, without any work: the bytes sent before, when the same
   * model serves and no validated partition changed since (the catalog generation moves with
   * any new current materialization), since the answer depends only on those. A model swap
   * or new data makes every earlier entry miss. Undefined when there is no such answer.
   */
  cachedDay(req: PredictRequest, options: { record?: boolean } = {}): Buffer | undefined {
    const recent = this.#recent.get(answerKey(req));
    if (recent === undefined) return undefined;
    const current = this.models.current();
    if (!current || recent.modelId !== current.materializationId || recent.generation !== this.features.catalog.generation) return undefined;
    if (options.record ?? true) {
      this.#hits.inc();
      this.#okDay(req.market).inc();
    }
    return recent.bytes;
  }

  /** A node-day's answer; JSON text when it was cached and `asText`. `keep: false` (the warm-up's requests) keeps no forecast. */
  async #day(
    served: ServedModel,
    ref: number | string,
    market: Market,
    date: string,
    explain: boolean,
    asText: boolean,
    keep = true,
  ): Promise<DayForecastBody | string> {
    const node = await this.features.resolveNode(ref);
    checkServes(served, market, node.id);
    // The rows are built from the inputs the served model was trained with (its sidecar's set).
    const f = await this.features.forDay(node, market, date, served.model.featureSet);
    // With LEAR served, the node's rows of D-1 and D-7 too (its exogenous series of those days); a day with missing inputs leaves LEAR without a forecast.
    const learDays = served.servable.lear ? await this.#learDays(served, node, market, date, f) : null;
    const key = `${served.materializationId}|${explain ? 1 : 0}|${f.key}${learDays ? `|${learDays.keys}` : ''}`;
    // Explained answers are ~25 times larger and rarer: computed each time rather than cached.
    const cached = explain ? undefined : this.#answers.get(key);
    if (cached !== undefined) {
      if (keep) this.#keepIfFuture(served, node.id, market, date, () => (JSON.parse(cached) as DayForecastBody).forecasts);
      return asText ? cached : (JSON.parse(cached) as DayForecastBody);
    }
    const forecast = servedForecast(served, f.table, date, learDays?.rows ?? null);
    const family = served.servable.lear ? familyNote(served, node.id, forecast.lear) : undefined;
    const body: DayForecastBody = {
      node,
      market,
      date,
      model: modelRef(served),
      inputs: { dataVersions: learDays ? { ...learDays.dataVersions, ...f.dataVersions } : f.dataVersions },
      ...(family ? { family } : {}),
      forecasts: forecastDayWith(served, f.table, date, explain, forecast.values),
    };
    if (!explain) this.#answers.set(key, JSON.stringify(body));
    if (keep) this.#keepIfFuture(served, node.id, market, date, () => body.forecasts);
    return body;
  }

  /** The feature rows LEAR reads for the node-day besides D's (`learInputDays`), their cache keys and input versions. */
  async #learDays(
    served: ServedModel,
    node: NodeInfo,
    market: Market,
    date: string,
    day: DayFeatures,
  ): Promise<{ rows: FeatureTable; keys: string; dataVersions: Record<string, string> }> {
    const tables: FeatureTable[] = [];
    const keys: string[] = [];
    const dataVersions: Record<string, string> = {};
    for (const d of learInputDays(served.servable.lear!, node.id, date)) {
      if (d === date) {
        tables.push(day.table);
        continue;
      }
      try {
        const other = await this.features.forDay(node, market, d, served.model.featureSet);
        tables.push(other.table);
        keys.push(other.key);
        Object.assign(dataVersions, other.dataVersions);
      } catch (err) {
        if (!(err instanceof HttpError) || err.code !== 'missing_inputs') throw err;
        keys.push(`${d}:missing`);
      }
    }
    return { rows: concatFeatureTables(tables), keys: keys.join(';'), dataVersions };
  }

  /** A forecast of a day whose prices are not validated yet is one the product issued: kept, once per model version x node x market x day, to be scored. */
  #keepIfFuture(served: ServedModel, nodeId: number, market: Market, date: string, hours: () => readonly HourForecast[]): void {
    if (!this.served || this.features.catalog.prices(nodeId, date) !== undefined) return;
    if (this.served.has({ modelVersion: served.dataVersion, nodeId, market, day: date })) return;
    this.served.keep(servedFromAnswer(nodeId, date, hours(), { origin: 'predict', modelVersion: served.dataVersion, market, issuedAt: Date.now() }));
  }

  /**
   * Every node × date with one model; a failing item carries its error instead of failing the
   * batch. Bounded in work (serving/predict/work.ts); between items it yields to the event loop
   * and stops when `signal` aborts (the request timed out or its connection closed).
   */
  async batch(req: PredictBatchRequest, signal?: AbortSignal): Promise<{ model: ModelRef; results: unknown[] }> {
    const explain = req.explain ?? false;
    checkBatchWork(req.nodes.length, req.dates.length, explain);
    return this.models.use(async (served) => {
      const results: unknown[] = [];
      try {
        for (const node of req.nodes) {
          for (const date of req.dates) {
            await checkpoint(signal);
            try {
              results.push(await this.#count(req.market, 'batch', () => this.#day(served, node, req.market, date, explain, false)));
            } catch (err) {
              if (!(err instanceof HttpError) || err.status >= 500) throw err;
              results.push({ node, date, error: { code: err.code, message: err.message, ...err.details } });
            }
          }
        }
      } catch (err) {
        if (signal?.aborted && err === signal.reason) this.metrics.predictions.inc({ market: req.market, form: 'batch', outcome: 'canceled' });
        throw err;
      }
      return { model: modelRef(served), results };
    });
  }

  /** Predictions for feature rows the caller computed, checked against the model's feature names. */
  async fromFeatures(req: PredictFeaturesRequest, signal?: AbortSignal): Promise<unknown> {
    checkRowsWork(req.rows.length, req.explain ?? false);
    return this.#count(req.market, 'features', () =>
      this.models.use(async (served) => {
        const node = await this.features.resolveNode(req.node);
        checkServes(served, req.market, node.id);
        const names = served.sidecar.featureNames;
        const required = new Set(names);
        const problems: string[] = [];
        req.rows.forEach((r, i) => {
          const missing = names.filter((n) => !(n in r.features));
          const unknown = Object.keys(r.features).filter((n) => !required.has(n));
          if (missing.length)
            problems.push(`rows[${i}] lacks ${missing.length} feature(s): ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}`);
          if (unknown.length) problems.push(`rows[${i}] has unknown feature(s): ${unknown.slice(0, 10).join(', ')}`);
        });
        if (problems.length > 0) {
          throw new HttpError(
            422,
            'feature_mismatch',
            `The rows do not match the model's ${names.length} features (GET /model lists them; use null for a missing value): ${problems.slice(0, 5).join('; ')}.`,
            {
              problems,
            },
          );
        }
        const table = featureTableFromRows(
          req.rows.map((r) => ({ nodeId: node.id, day: '1970-01-01', hour: Number(r.features['hour'] ?? 0), target: null, features: r.features })),
          served.model.featureSet,
        );
        const values = predictRows(served.model, table, 0, table.rows);
        // Explanations a node-day's worth of rows at a time, yielding in between (as a batch does).
        let explanations: Explanation[] | undefined;
        if (req.explain) {
          explanations = [];
          for (let from = 0; from < table.rows; from += ROWS_PER_NODE_DAY) {
            if (from > 0) await checkpoint(signal);
            explanations.push(...explainRows(served.model, table, from, Math.min(table.rows, from + ROWS_PER_NODE_DAY)));
          }
        }
        return {
          node,
          market: req.market,
          model: modelRef(served),
          predictions: Array.from(values, (value, i) => ({ value, ...(explanations ? { explanation: explanations[i]! } : {}) })),
          ...(served.servable.lear
            ? {
                note: `The model serves ${served.servable.family === 'lear' ? 'LEAR' : 'the ensemble of XGBoost and LEAR'}; these values are its XGBoost members' alone (LEAR reads several days of rows: POST /predict forecasts with the served family).`,
              }
            : {}),
        };
      }),
    );
  }

  /** Writes the forecasts still queued for the served-forecast log (at shutdown, before the store closes). */
  async close(): Promise<void> {
    await this.served?.close();
  }

  async #count<T>(market: Market, form: string, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      this.metrics.predictions.inc({ market, form, outcome: 'ok' });
      return result;
    } catch (err) {
      this.metrics.predictions.inc({ market, form, outcome: err instanceof HttpError ? err.code : 'error' });
      throw err;
    }
  }
}

/** What a LEAR-serving model's answer says about its family (the sidecar's weights; this node's windows or why LEAR fell back). */
function familyNote(served: ServedModel, nodeId: number, lear: { ok: true } | { ok: false; reason: string } | null): ServedFamilyNote {
  const families = served.sidecar.families!;
  return {
    served: families.choice,
    weights: families.weights,
    learWindows: families.lear.nodes.find((n) => n.nodeId === nodeId)?.windows.map((w) => w.window) ?? [],
    learFallback: lear === null ? 'no LEAR forecast was made' : lear.ok ? null : lear.reason,
  };
}
