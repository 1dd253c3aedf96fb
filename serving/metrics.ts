// The server's Prometheus metrics (prom-client), in a registry of their own so that two
// apps in one process (tests) do not collide: requests and their latency, predictions by
// outcome, feature-cache hits, which model version is serving, and whether each asset that
// declares a deadline (freshness) is on time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';
import type { AssetFreshness } from '../runtime/index.ts';

/** Where the freshness gauges read their verdicts, at each scrape. */
export type FreshnessSource = () => Promise<readonly AssetFreshness[]>;

/** One rolling window of live forecast accuracy (pjm/forecast_score), as the score gauges export it. */
export interface ScoreWindow {
  readonly windowDays: number;
  readonly hours: number;
  readonly scoredDays: number;
  readonly mae: number | null;
  readonly rmae: number | null;
  readonly coverage50: number | null;
  readonly coverage90: number | null;
}
/** Where the score gauges read the rolling windows, at each scrape. */
export type ScoreSource = () => Promise<readonly ScoreWindow[]>;

/**
 * One labelled series of a counter, counted in a plain number and handed to prom-client when
 * the registry is read (the counter's collect hook, so /metrics is always exact): prom-client
 * hashes and checks the labels on every inc(), a labelled child's too, and the cached /predict
 * lane counts three series per request.
 */
export interface Tally {
  inc(): void;
}

export class ServingMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly predictions: Counter<'market' | 'form' | 'outcome'>;
  readonly featureCache: Counter<'result'>;
  readonly modelInfo: Gauge<'materialization_id' | 'data_version'>;
  readonly modelLoadedAt: Gauge;
  readonly modelSwaps: Counter<'result'>;
  readonly freshnessLate: Gauge<'asset'>;
  readonly freshnessSecondsLate: Gauge<'asset'>;
  readonly scoreMae: Gauge<'window'>;
  readonly scoreRmae: Gauge<'window'>;
  readonly scoreCoverage: Gauge<'window' | 'interval'>;
  readonly scoreHours: Gauge<'window'>;
  private freshnessSource: FreshnessSource | undefined;
  private scoreSource: ScoreSource | undefined;
  // One tally per (method, route, status) and one labelled child per (method, route), looked
  // up by one string. Bounded, since route is a template and Node only parses the methods it knows.
  readonly #requestCounters = new Map<string, Tally>();
  readonly #requestTimers = new Map<string, ReturnType<ServingMetrics['httpDuration']['labels']>>();
  /** Each counter's tallies, settled into it when it is collected. */
  readonly #tallies = new Map<Counter<string>, { readonly child: { inc(value?: number): void }; pending: number }[]>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const metrics = this;
    const settleTallies = function (this: Counter<string>) {
      metrics.#settle(this);
    };
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
      collect: settleTallies,
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by method and route template.',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.predictions = new Counter({
      name: 'predictions_total',
      help: 'Node-day (or feature-row) predictions by market, request form and outcome (ok, missing_inputs, unknown_node, ...).',
      labelNames: ['market', 'form', 'outcome'],
      registers,
      collect: settleTallies,
    });
    this.featureCache = new Counter({
      name: 'feature_cache_total',
      help: 'Feature-row lookups by result: hit, miss.',
      labelNames: ['result'],
      registers,
      collect: settleTallies,
    });
    this.modelInfo = new Gauge({
      name: 'model_info',
      help: 'The model being served (value 1): its pjm/model materialization id and data version.',
      labelNames: ['materialization_id', 'data_version'],
      registers,
    });
    this.modelLoadedAt = new Gauge({ name: 'model_loaded_timestamp_seconds', help: 'When the serving model was loaded (Unix time).', registers });
    this.modelSwaps = new Counter({
      name: 'model_swaps_total',
      help: 'Attempts to load a new current model, by result: loaded, failed.',
      labelNames: ['result'],
      registers,
    });
    // Computed when scraped, so a deadline that passes shows at the next scrape with no run in between.
    this.freshnessLate = new Gauge({
      name: 'asset_freshness_late',
      help: 'Per asset that declares a deadline (freshness): 1 when its data is late, 0 when on time (unknown verdicts are left out).',
      labelNames: ['asset'],
      registers,
      async collect() {
        this.reset();
        for (const f of await metrics.readFreshness()) if (f.state !== 'unknown') this.set({ asset: f.asset }, f.state === 'late' ? 1 : 0);
      },
    });
    this.freshnessSecondsLate = new Gauge({
      name: 'asset_freshness_seconds_late',
      help: 'Per asset that declares a deadline: seconds since the deadline it missed, 0 when on time.',
      labelNames: ['asset'],
      registers,
      async collect() {
        this.reset();
        for (const f of await metrics.readFreshness()) if (f.state !== 'unknown') this.set({ asset: f.asset }, f.secondsLate);
      },
    });
    // Live accuracy of what was served, pooled over the rolling windows (pjm/forecast_score), at each scrape.
    const windowLabel = (w: ScoreWindow) => `${w.windowDays}d`;
    const scoreGauge = <L extends string>(name: string, help: string, labelNames: L[], fill: (g: Gauge<L>, w: ScoreWindow) => void): Gauge<L> =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          this.reset();
          for (const w of await metrics.readScores()) fill(this, w);
        },
      });
    this.scoreMae = scoreGauge(
      'forecast_score_mae',
      'MAE ($/MWh) of the served forecasts scored against validated prices, over the rolling window ending at the latest scored day (pjm/forecast_score).',
      ['window'],
      (g, w) => {
        if (w.mae !== null) g.set({ window: windowLabel(w) }, w.mae);
      },
    );
    this.scoreRmae = scoreGauge(
      'forecast_score_rmae',
      "rMAE of the served forecasts against the backtest's naive forecast, over the rolling window.",
      ['window'],
      (g, w) => {
        if (w.rmae !== null) g.set({ window: windowLabel(w) }, w.rmae);
      },
    );
    this.scoreCoverage = scoreGauge(
      'forecast_score_interval_coverage',
      "Share of scored hours inside the served forecasts' central interval (interval 50 or 90 %), over the rolling window; hours without quantiles are left out.",
      ['window', 'interval'],
      (g, w) => {
        if (w.coverage50 !== null) g.set({ window: windowLabel(w), interval: '50' }, w.coverage50);
        if (w.coverage90 !== null) g.set({ window: windowLabel(w), interval: '90' }, w.coverage90);
      },
    );
    this.scoreHours = scoreGauge('forecast_score_hours', 'Hours scored in the rolling window.', ['window'], (g, w) =>
      g.set({ window: windowLabel(w) }, w.hours),
    );
  }

  /**
   * Counts one answered request and its latency since `started` (process.hrtime.bigint()),
   * by method, route template (`/runs/:id`, or `unmatched`) and status.
   */
  recordRequest(method: string, route: string, status: number, started: bigint): void {
    this.#counter(method, route, status).inc();
    this.#timer(method, route).observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /**
   * `recordRequest` bound to one method, route and status, for a path that only ever answers
   * that (the cached /predict lane): no label keys built or looked up per request.
   */
  requestRecorder(method: string, route: string, status: number): (started: bigint) => void {
    const counter = this.#counter(method, route, status);
    const timer = this.#timer(method, route);
    return (started) => {
      counter.inc();
      timer.observe(Number(process.hrtime.bigint() - started) / 1e9);
    };
  }

  /** A tally of `counter`'s series with these labels (for a hot path: an inc() is an addition). */
  tally<L extends string>(counter: Counter<L>, labels: LabelValues<L>): Tally {
    const entry = { child: counter.labels(labels), pending: 0 };
    const list = this.#tallies.get(counter as unknown as Counter<string>) ?? [];
    list.push(entry);
    this.#tallies.set(counter as unknown as Counter<string>, list);
    return {
      inc: () => {
        entry.pending++;
      },
    };
  }

  #settle(counter: Counter<string>): void {
    for (const entry of this.#tallies.get(counter) ?? []) {
      if (entry.pending === 0) continue;
      entry.child.inc(entry.pending);
      entry.pending = 0;
    }
  }

  #counter(method: string, route: string, status: number): Tally {
    const key = `${method} ${route} ${status}`;
    let counter = this.#requestCounters.get(key);
    if (!counter) this.#requestCounters.set(key, (counter = this.tally(this.httpRequests, { method, route, status: String(status) })));
    return counter;
  }

  #timer(method: string, route: string): ReturnType<ServingMetrics['httpDuration']['labels']> {
    const key = `${method} ${route}`;
    let timer = this.#requestTimers.get(key);
    if (!timer) this.#requestTimers.set(key, (timer = this.httpDuration.labels({ method, route })));
    return timer;
  }

  /** Where the freshness gauges read their verdicts (the server gives its instance); without one they are empty. */
  setFreshnessSource(source: FreshnessSource): void {
    this.freshnessSource = source;
  }

  /** Where the score gauges read the rolling windows (the server gives its ForecastScores); without one they are empty. */
  setScoreSource(source: ScoreSource): void {
    this.scoreSource = source;
  }

  private readScores(): Promise<readonly ScoreWindow[]> {
    return this.scoreSource?.() ?? Promise.resolve([]);
  }

  /** Each gauge reads on its own (a snapshot of the few assets with a deadline): prom-client collects them concurrently. */
  private readFreshness(): Promise<readonly AssetFreshness[]> {
    return this.freshnessSource?.() ?? Promise.resolve([]);
  }
}
