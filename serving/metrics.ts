// The server's Prometheus metrics (prom-client), in a registry of their own so that two
// apps in one process (tests) do not collide: requests and their latency, predictions by
// outcome, feature-cache hits, which model version is serving, and whether each asset that
// declares a deadline (freshness) is on time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AssetFreshness } from '../runtime/index.ts';

/** Where the freshness gauges read their verdicts, at each scrape. */
export type FreshnessSource = () => Promise<readonly AssetFreshness[]>;

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
  private freshnessSource: FreshnessSource | undefined;
  // One labelled child per (method, route, status), looked up by one string: prom-client
  // otherwise hashes a labels object on every inc() and observe(). Bounded, since route is
  // a template and Node only parses the methods it knows.
  readonly #requestCounters = new Map<string, ReturnType<ServingMetrics['httpRequests']['labels']>>();
  readonly #requestTimers = new Map<string, ReturnType<ServingMetrics['httpDuration']['labels']>>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({ name: 'http_requests_total', help: 'HTTP requests by method, route template and status.', labelNames: ['method', 'route', 'status'], registers });
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
    });
    this.featureCache = new Counter({ name: 'feature_cache_total', help: 'Feature-row lookups by result: hit, miss.', labelNames: ['result'], registers });
    this.modelInfo = new Gauge({
      name: 'model_info',
      help: 'The model being served (value 1): its pjm/model materialization id and data version.',
      labelNames: ['materialization_id', 'data_version'],
      registers,
    });
    this.modelLoadedAt = new Gauge({ name: 'model_loaded_timestamp_seconds', help: 'When the serving model was loaded (Unix time).', registers });
    this.modelSwaps = new Counter({ name: 'model_swaps_total', help: 'Attempts to load a new current model, by result: loaded, failed.', labelNames: ['result'], registers });
    // Computed when scraped, so a deadline that passes shows at the next scrape with no run in between.
    const metrics = this;
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
  }

  /**
   * Counts one answered request and its latency since `started` (process.hrtime.bigint()),
   * by method, route template (`/runs/:id`, or `unmatched`) and status.
   */
  recordRequest(method: string, route: string, status: number, started: bigint): void {
    const timerKey = `${method} ${route}`;
    const counterKey = `${timerKey} ${status}`;
    let counter = this.#requestCounters.get(counterKey);
    if (!counter) this.#requestCounters.set(counterKey, (counter = this.httpRequests.labels({ method, route, status: String(status) })));
    let timer = this.#requestTimers.get(timerKey);
    if (!timer) this.#requestTimers.set(timerKey, (timer = this.httpDuration.labels({ method, route })));
    counter.inc();
    timer.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Where the freshness gauges read their verdicts (the server gives its instance); without one they are empty. */
  setFreshnessSource(source: FreshnessSource): void {
    this.freshnessSource = source;
  }

  /** Each gauge reads on its own (a snapshot of the few assets with a deadline): prom-client collects them concurrently. */
  private readFreshness(): Promise<readonly AssetFreshness[]> {
    return this.freshnessSource?.() ?? Promise.resolve([]);
  }
}
