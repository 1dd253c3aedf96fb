// Keeps /predict's forecasts of future days in the served-forecast log (assets/pjm/served/
// log.ts, the lineage store's asset records), off the request path: an answer is queued in
// memory (one map lookup decides whether its model version x node x market x day was kept
// already), and a timer writes the queue in one store transaction a little later, one write
// at a time. Repeated requests are answered from the answer cache and never reach here; a
// failed write is logged and the forecasts are dropped (they are a record, not part of the answer).
import type { Logger } from 'pino';
import { servedForecastKey, ServedForecastLog, type ServedForecast } from '../../assets/pjm/forecasting.ts';
import { errorMessage, type AssetRecords } from '../../runtime/index.ts';
import { Lru } from '../data/lru.ts';

/** How long forecasts wait in memory before one write takes them all. */
const FLUSH_DELAY_MS = 200;

export class ServedForecastRecorder {
  readonly #seen = new Lru<string, true>(20_000);
  readonly #log: ServedForecastLog;
  #pending: ServedForecast[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** The write in progress (each flush waits for the one before: one store write at a time). */
  #writing: Promise<void> = Promise.resolve();
  #written = 0;

  constructor(
    records: AssetRecords,
    private readonly logger: Logger,
  ) {
    this.#log = new ServedForecastLog(records);
  }

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
      this.#timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
      this.#timer.unref();
    }
  }

  /** Writes what is queued now (the timer does it; close and tests call it directly); resolves once written or dropped. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return this.#writing;
    this.#writing = this.#writing.then(async () => {
      try {
        this.#written += await this.#log.append(batch);
      } catch (err) {
        this.logger.warn(
          { err: errorMessage(err), forecasts: batch.length },
          'could not keep served forecasts in the served-forecast log (lineage store asset records); they will not be scored',
        );
      }
    });
    return this.#writing;
  }

  /** Writes what is still queued; call before the store closes. */
  close(): Promise<void> {
    return this.flush();
  }
}
