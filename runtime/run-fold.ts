// "How far is this run": a run's events folded into its progress, overall and per asset.
// One pure function that every reader shares (the CLI's live view, the UI's run page and its
// event stream), so a terminal and a browser watching the same run cannot disagree about it.
// A step is running from its `step_started` until any event that ends it: materialized,
// failed, blocked or skipped (a canceled step ends as skipped, "run canceled").
import { type RunEvent, STEP_END_TYPES } from './events.ts';
import type { AssetKey } from './keys.ts';

/** The outcomes of steps, counted. */
export interface StepCounts {
  /** Steps planned to run or to run if upstream changes. */
  readonly planned: number;
  /** Steps finished: materialized, failed, blocked or skipped. */
  readonly done: number;
  readonly running: number;
  readonly materialized: number;
  readonly failed: number;
  readonly blocked: number;
  readonly skipped: number;
}

export interface AssetProgress extends StepCounts {
  /** When its first step started, if one has. */
  readonly startedAt: number | null;
  /** When its last planned step ended, once all have. */
  readonly endedAt: number | null;
}

export interface RunProgressFold extends StepCounts {
  /** Per asset the run planned, in the order planned. */
  readonly assets: ReadonlyMap<AssetKey, AssetProgress>;
  /** The steps started and not yet ended, as `asset\0partition`. */
  readonly inFlight: ReadonlySet<string>;
}

const ZERO: StepCounts = { planned: 0, done: 0, running: 0, materialized: 0, failed: 0, blocked: 0, skipped: 0 };

export const EMPTY_RUN_FOLD: RunProgressFold = { ...ZERO, assets: new Map(), inFlight: new Set() };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Outcome = 'materialized' | 'failed' | 'blocked' | 'skipped';
const OUTCOME: Partial<Record<RunEvent['type'], Outcome>> = {
  step_materialized: 'materialized',
  step_failed: 'failed',
  step_blocked: 'blocked',
  step_skipped: 'skipped',
};

/**
 * Folds `events` (in the order they happened) onto `from`, the fold of the events before them,
 * and returns the new fold; `from` is left as it was. Events are append-only, so a reader that
 * follows a run folds each new batch onto the last fold.
 */
export function foldRun(events: Iterable<RunEvent>, from: RunProgressFold = EMPTY_RUN_FOLD): RunProgressFold {
  const total: Mutable<StepCounts> = { ...pickCounts(from) };
  // The CLI's live view folds one event at a time: the map is copied by reference and an
  // asset's entry only when this batch changes it, so a step's event costs O(1) entries
  // copied, not one per asset of the run.
  const assets = new Map<AssetKey, AssetProgress>(from.assets);
  const copied = new Set<AssetKey>();
  const writable = (key: AssetKey): Mutable<AssetProgress> | undefined => {
    const a = assets.get(key);
    if (a === undefined || copied.has(key)) return a;
    const copy = { ...a };
    assets.set(key, copy);
    copied.add(key);
    return copy;
  };
  const inFlight = new Set(from.inFlight);
  for (const e of events) {
    if (e.type === 'run_started') {
      total.planned = e.planned.run + e.planned.conditional;
      for (const a of e.assets) {
        assets.set(a.asset, { ...ZERO, planned: a.steps, startedAt: null, endedAt: null });
        copied.add(a.asset);
      }
      continue;
    }
    if (e.type !== 'step_started' && !STEP_END_TYPES.has(e.type)) continue;
    if (!('asset' in e) || e.asset === undefined) continue;
    const asset = writable(e.asset);
    const step = `${e.asset}\u0000${e.partition ?? ''}`;
    if (e.type === 'step_started') {
      // A retry starts the same step again: it is still one step running.
      if (!inFlight.has(step)) {
        inFlight.add(step);
        total.running++;
        if (asset) asset.running++;
      }
      if (asset) asset.startedAt ??= e.ts;
      continue;
    }
    if (inFlight.delete(step)) {
      total.running--;
      if (asset) asset.running--;
    }
    const outcome = OUTCOME[e.type]!;
    for (const c of asset ? [total, asset] : [total]) {
      c[outcome]++;
      c.done++;
    }
    if (asset && asset.done === asset.planned) asset.endedAt ??= e.ts;
  }
  return { ...total, assets, inFlight };
}

/** The counts alone, as the UI's API returns them. */
export function pickCounts(c: StepCounts): StepCounts {
  return { planned: c.planned, done: c.done, running: c.running, materialized: c.materialized, failed: c.failed, blocked: c.blocked, skipped: c.skipped };
}
