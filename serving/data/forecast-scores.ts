// Live accuracy for /metrics and the UI: the current pjm/forecast_score partitions of the
// latest days (their figures are in each materialization's metadata, so nothing is read from
// storage), pooled into rolling 7- and 28-day windows, and the kept forecasts that are not
// scored yet, each with why. Read again when the store changed (its change token), and at
// most every few seconds otherwise.
import type { AssetKey, Instance } from '../../runtime/index.ts';
import { FORECAST_SCORE_ASSET, rollingScore, ServedForecastLog, type ForecastOrigin, type RollingScore, type ScoreSums } from '../../assets/pjm/forecasting.ts';

/** Rolling windows /metrics and the UI show, in days. */
export const SCORE_WINDOWS = [7, 28] as const;
/** How many of the latest day partitions are looked at (the longest window, with room for days with nothing kept). */
const LOOKBACK_PARTITIONS = 120;
/** How stale the "not scored yet" list may be (a kept forecast is an asset record: it changes no change token). */
const PENDING_REFRESH_MS = 5_000;
/** How many of the latest kept forecasts are checked for "not scored yet". */
const PENDING_LOOKBACK = 200;

export interface DailyScore extends ScoreSums {
  readonly day: string;
  readonly materializationId: number;
  readonly market: string | null;
  readonly mae: number | null;
  readonly rmae: number | null;
  readonly coverage50: number | null;
  readonly coverage90: number | null;
  readonly forecasts: number;
  readonly unscored: number;
  readonly summary: string;
}

export interface PendingForecast {
  readonly day: string;
  readonly nodeId: number;
  readonly market: string;
  readonly origin: ForecastOrigin;
  readonly modelVersion: string;
  readonly issuedAt: number;
  readonly reason: string;
}

export interface ScoreView {
  /** The scoring asset, or null when the definitions have none. */
  readonly asset: string | null;
  /** Days with a forecast kept, oldest first. */
  readonly days: readonly DailyScore[];
  readonly rolling: readonly RollingScore[];
  /** Kept forecasts of days not scored yet, newest first. */
  readonly pending: readonly PendingForecast[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export class ForecastScores {
  #token: string | undefined;
  #view: Promise<ScoreView> | undefined;

  constructor(
    private readonly instance: Instance<unknown>,
    readonly asset: AssetKey = FORECAST_SCORE_ASSET as AssetKey,
  ) {}

  /**
   * The current view (one read per store change, shared by concurrent callers). The server's own
   * kept forecasts change no store token, so the view is also read again when older than
   * PENDING_REFRESH_MS, for the list of what waits to be scored.
   */
  async view(): Promise<ScoreView> {
    const token = `${await this.instance.store.changeToken()}|${Math.floor(Date.now() / PENDING_REFRESH_MS)}`;
    if (this.#view === undefined || token !== this.#token) {
      this.#token = token;
      this.#view = this.#read().catch((err: unknown) => {
        this.#view = undefined;
        throw err;
      });
    }
    return this.#view;
  }

  async #read(): Promise<ScoreView> {
    const defined = this.instance.graph.has(this.asset);
    const snapshot = await this.instance.store.snapshot([this.asset]);
    const current = [...(snapshot.get(this.asset) ?? new Map())].sort((a, b) => (a[0] < b[0] ? 1 : -1)).slice(0, LOOKBACK_PARTITIONS);
    const days: DailyScore[] = [];
    for (const [day, c] of current) {
      const m = (await this.instance.store.materialization(c.id))?.metadata ?? {};
      const forecasts = num(m['forecasts']) ?? 0;
      const unscored = num(m['unscored']) ?? 0;
      if (forecasts === 0 && unscored === 0) continue;
      days.push({
        day,
        materializationId: c.id,
        market: typeof m['market'] === 'string' ? m['market'] : null,
        hours: num(m['hours']) ?? 0,
        absError: num(m['absError']) ?? 0,
        naiveAbsError: num(m['naiveAbsError']) ?? 0,
        quantileHours: num(m['quantileHours']) ?? 0,
        inside50: num(m['inside50']) ?? 0,
        inside90: num(m['inside90']) ?? 0,
        mae: num(m['mae']),
        rmae: num(m['rmae']),
        coverage50: num(m['coverage50']),
        coverage90: num(m['coverage90']),
        forecasts,
        unscored,
        summary: typeof m['summary'] === 'string' ? m['summary'] : '',
      });
    }
    days.reverse();
    const rolling = SCORE_WINDOWS.map((w) => rollingScore(days, w)).filter((r): r is RollingScore => r !== undefined);
    return {
      asset: defined ? this.asset : null,
      days,
      rolling,
      pending: await this.#pending(new Set(days.filter((d) => d.hours > 0).map((d) => d.day)), defined),
    };
  }

  /** Kept forecasts of days with no scored hour yet, and why. */
  async #pending(scoredDays: ReadonlySet<string>, defined: boolean): Promise<PendingForecast[]> {
    return (await new ServedForecastLog(this.instance.store).recent(PENDING_LOOKBACK))
      .filter((f) => !scoredDays.has(f.day))
      .map((f) => ({
        day: f.day,
        nodeId: f.nodeId,
        market: f.market,
        origin: f.origin,
        modelVersion: f.modelVersion,
        issuedAt: f.issuedAt,
        reason: defined
          ? `not scored yet: the validated prices of ${f.day} are not in (${this.asset}[${f.day}] is scored once they are)`
          : `not scored: the definitions have no ${this.asset} asset`,
      }));
  }
}
