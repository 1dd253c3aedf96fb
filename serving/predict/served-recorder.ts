// Keeps /predict's forecasts of future days in the served-forecast log (assets/pjm/served/
// log.ts), off the request path: an answer is queued in memory (one map lookup decides whether
// its model version x node x market x day was kept already), and a timer writes the queue in
// one SQLite transaction a little later. Repeated requests are answered from the answer cache
// and never reach here; a failed write is logged and the forecasts are dropped (they are a
// record, not part of the answer).
import type { Logger } from 'pino';
import { servedForecastKey, ServedForecastLog, type ServedForecast } from '../../assets/pjm/forecasting.ts';
import { errorMessage } from '../../runtime/index.ts';
import { Lru } from '../data/lru.ts';

/** How long forecasts wait in memory before one write takes them all. */
const FLUSH_DELAY_MS = 200;

export class ServedForecastRecorder {
  readonly #seen = new Lru<string, true>(20_000);
  #pending: ServedForecast[] = [];
  #timer: NodeJS.Timeout | undefined;
  #log: ServedForecastLog | undefined;
  #written = 0;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** Forecasts written to the log so far by this process. */
  get written(): number {
    return this.#written;
  }

  /** Whether a forecast of this model version, node, market and day was queued by this process already. */
  has(f: Parameters<typeof servedForecastKey>[0]): boolean {
    return this.#seen.get(servedForecastKey(f)) !== undefined;
  }

  /** Queues `f` unless its key was queued before; the write happens later, off the caller's path. */
  keep(f: ServedForecast): void {
    const key = servedForecastKey(f);
    if (this.#seen.get(key) !== undefined) return;
    this.#seen.set(key, true);
    this.#pending.push(f);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), FLUSH_DELAY_MS);
      this.#timer.unref();
    }
  }

  /** Writes what is queued now (the timer does it; close and tests call it directly). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    try {
      this.#log ??= ServedForecastLog.open(this.path);
      this.#written += this.#log.append(batch);
    } catch (err) {
      this.logger.warn(
        { err: errorMessage(err), path: this.path, forecasts: batch.length },
        'could not keep served forecasts in the served-forecast log; they will not be scored',
      );
    }
  }

  close(): void {
    this.flush();
    this.#log?.close();
    this.#log = undefined;
  }
}
