// The declarative vocabulary of automation: what an asset or the definitions say about
// when things should run (policies, schedules, sensors) and by when data must exist
// (freshness), and the run requests every evaluation produces. Types only: the
// evaluations live in schedules.ts, policies.ts, sensors.ts and freshness.ts.
import type { PartitionKey } from '../keys.ts';

/** A wall-clock time of day in a named zone, e.g. { at: '14:30', timezone: 'America/New_York' }. */
export interface ZonedTimeOfDay {
  /** HH:MM, 24-hour. */
  readonly at: string;
  /** An IANA zone name. */
  readonly timezone: string;
}

/**
 * When the daemon materializes an asset on its own, evaluated on every tick:
 * - `eager`: when an upstream's data version changed since this asset's partition consumed it
 *   (a re-materialization with identical data changes nothing), or when the latest partition is
 *   missing and its inputs exist;
 * - `missing`: every partition that has never been materialized (and whose inputs exist);
 * - `on_cron`: at each due time of the cron line, the latest partition (when missing or stale).
 */
export type AutomationPolicy =
  | { readonly kind: 'eager' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'on_cron'; readonly cron: string; readonly timezone: string };

/**
 * By when an asset's data must exist, in market time.
 * Daily-partitioned: partition D must exist by `at` on day D + `partitionDay` (so
 * `partitionDay: -1` reads "day D's forecast exists by 14:30 on D-1").
 * Unpartitioned: the asset must be materialized at least once between two consecutive deadlines.
 */
export interface FreshnessPolicy extends ZonedTimeOfDay {
  readonly partitionDay?: number;
}

export type FreshnessState = 'on_time' | 'late' | 'unknown';

export interface FreshnessStatus {
  readonly state: FreshnessState;
  /** The partition the verdict is about ('' for an unpartitioned asset, undefined when none is due yet). */
  readonly partition: PartitionKey | undefined;
  /** Epoch ms of the deadline the verdict is about, when one has passed. */
  readonly deadline: number | undefined;
  /** The verdict in words, e.g. "pjm/forecast was due by 14:30 EST on 2026-12-02 and was last materialized …". */
  readonly reason: string;
}

/** What an evaluation (a schedule, a sensor, a policy) asks the daemon to run. */
export interface RunRequest {
  /** A selection string, as the CLI takes. */
  readonly selection: string;
  /** Partition keys of the selected partitioned assets; none means the planner's default (all that are missing or stale). */
  readonly partitions?: readonly PartitionKey[];
  /**
   * Two requests with one key are one run: the store claims each key once, whichever daemon
   * asks first, so a restart or a second daemon never starts it again.
   */
  readonly dedupeKey: string;
  /** Why, in words: "upstream pjm/validated_prices changed", "due at 2026-12-02 14:30 EST". */
  readonly reason: string;
  /** Run every selected step, fresh or not (a schedule's contract); default false. */
  readonly force?: boolean;
}

export type EvaluationKind = 'schedule' | 'sensor' | 'policy';

/** Why something evaluated did not request a run (or a request was not launched). */
export interface SkipReason {
  /** The asset, schedule or request concerned. */
  readonly subject: string;
  readonly reason: string;
}
