// What the lineage store keeps for automation: one tick row per evaluated schedule, sensor
// or policy pass (what was evaluated, what it requested and with which outcome, what it
// skipped and why), the cursors that make evaluations resumable, and the claim of each run
// request's dedupe key, which is what keeps two daemons from starting one run twice.
import type { EvaluationKind, RunRequest, SkipReason } from '../automation/types.ts';

export type TickKind = EvaluationKind;
export const TICK_KINDS: readonly TickKind[] = ['schedule', 'sensor', 'policy'];

/**
 * - `launched`: claimed by this daemon and started as run `runId`;
 * - `duplicate`: its dedupe key was claimed before (by this or another daemon): not started again;
 * - `invalid`: claimed, but the run could not be prepared (e.g. a partition outside the definition);
 * - `exhausted`: its run failed, and so did every retry (MAX_REQUEST_RETRIES): not tried again.
 * A `launched` request may be a retry of a failed one: its `detail` says which attempt, after which run.
 */
export type RequestOutcome = 'launched' | 'duplicate' | 'invalid' | 'exhausted';

export interface RequestedRun extends RunRequest {
  readonly outcome: RequestOutcome;
  /** The run started for it, or the one that claimed it first for a duplicate. */
  readonly runId: string | null;
  readonly detail?: string;
}

export interface NewTick {
  readonly daemonId: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly kind: TickKind;
  readonly name: string;
  readonly evaluated: readonly string[];
  readonly requested: readonly RequestedRun[];
  readonly skipped: readonly SkipReason[];
  /** The cursor after this evaluation, if it keeps one. */
  readonly cursor: string | null;
  /** Why the evaluation failed (a sensor that threw); its cursor is then left as it was. */
  readonly error: string | null;
}

export interface TickRecord extends NewTick {
  readonly id: number;
}

export interface TickQuery {
  readonly limit?: number;
  readonly name?: string;
  readonly kind?: TickKind;
}

export interface AutomationCursor {
  readonly cursor: string | null;
  /** When it was last evaluated (epoch ms): a sensor's interval counts from here. */
  readonly evaluatedAt: number;
}

export interface CursorUpdate extends AutomationCursor {
  readonly name: string;
}

export type ClaimResult =
  | { readonly claimed: true }
  | { readonly claimed: false; readonly daemonId: string; readonly runId: string; readonly claimedAt: number };

/**
 * A tick's error text as both stores keep it: a sensor's message comes from outside, and
 * PostgreSQL text cannot hold NUL, so NULs become U+FFFD in either store.
 */
export const storableText = (s: string | null): string | null => (s === null ? null : s.replaceAll('\u0000', '\uFFFD'));
