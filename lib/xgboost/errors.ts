// Errors raised by the XGBoost engine. Two kinds, so callers can tell "XGBoost refused
// this" (a bad parameter value, an unreadable model file) from "the caller broke the
// contract" (a disposed object, a data length that is not rows × cols).

/** XGBoost itself reported a failure; `message` carries its XGBGetLastError text. */
export class XGBoostError extends Error {
  override readonly name = 'XGBoostError';
  constructor(
    /** The C API call that failed, e.g. `XGBoosterUpdateOneIter`. */
    readonly operation: string,
    /** XGBoost's message with the timestamp, source path and native stack trace removed. */
    readonly xgboostMessage: string,
    /** What the engine was doing, in words, e.g. `training round 3`. */
    readonly context: string,
  ) {
    super(`XGBoost failed while ${context} (${operation}): ${xgboostMessage}`);
  }
}

/** The caller passed something the engine cannot use; nothing reached XGBoost. */
export class XGBoostUsageError extends Error {
  override readonly name = 'XGBoostUsageError';
}

/**
 * Turns XGBoost's raw error text into one readable sentence: drops the
 * `[06:41:40] /build/path/json.h:81: ` prefix and the `Stack trace:` block that
 * follows the message, neither of which helps the person reading a JS stack.
 */
export function cleanXGBoostMessage(raw: string): string {
  const withoutTrace = raw.split(/\n\s*Stack trace:/)[0] ?? raw;
  return withoutTrace.replace(/^\[\d{2}:\d{2}:\d{2}\]\s+\S+:\d+:\s*/, '').trim();
}
