// The model sidecar's format, declared once: the JSON that pjm/model stores in its metadata
// (at `sidecar`) beside the bundle of member models, and every reader of it. Its `format`
// field is the version; a reader checks the sidecar against this declaration and says which
// field of which materialization is wrong, rather than guessing its shape.
//
// Two readers, one declaration: `readSidecarDescription` checks what describes the model (what
// the UI's model page shows: members, learning curves, importance, window, metrics);
// `readModelSidecar` checks all that and what predicting needs (target transform, settings).
//
// Format 1 (`pjm-lmp-xgb/1`) is a model of XGBoost members alone; format 2 (`pjm-lmp/2`) is
// format 1 plus `families`: which family is served (LEAR, or the ensemble of both), the weights,
// and the LEAR members (per node, each calibration window and the days it was fitted on, their
// coefficients in a bundle file). pjm/model writes format 2 only when LEAR is served, so an
// XGBoost model is written as before; both formats are read, format 1 as XGBoost alone.
import type { JsonValue } from '../../../runtime/definitions.ts';
import type { FamilyChoice } from '../config.ts';
import type { FeatureSet, Market } from '../features/columns.ts';
import type { ConformalCalibration } from './calibration.ts';
import type { TrainSettings, VariantSpec } from './settings.ts';
import type { TrainedModel } from './train.ts';
import type { PriceTransform } from './transform.ts';

/** The sidecar format of a model of XGBoost members alone; a new incompatible shape gets a new number. */
export const SIDECAR_FORMAT = 'pjm-lmp-xgb/1';
/** The format of a model that serves LEAR (alone or in the ensemble): format 1 plus `families`. */
export const SIDECAR_FORMAT_FAMILIES = 'pjm-lmp/2';
/** Every format this code reads. */
export const SIDECAR_FORMATS = [SIDECAR_FORMAT, SIDECAR_FORMAT_FAMILIES] as const;
export type SidecarFormat = (typeof SIDECAR_FORMATS)[number];

/** One LEAR calibration window of one node: the days it was fitted on (its first week feeds only the lags). */
export interface SidecarLearWindow {
  readonly window: number;
  readonly firstDay: string;
  readonly lastDay: string;
}

/** What a format-2 model serves besides its XGBoost members. */
export interface SidecarFamilies {
  /** PJM_MODEL_FAMILIES when it was trained. */
  readonly choice: Exclude<FamilyChoice, 'xgboost'>;
  /** The weight of each family in the served mean (lear: LEAR alone, XGBoost where LEAR has no forecast). */
  readonly weights: { readonly xgboost: number; readonly lear: number };
  readonly combination: string;
  readonly lear: {
    /** The bundle file holding the coefficients and transforms (assets/pjm/lear/served.ts, format pjm-lear/1). */
    readonly file: string;
    /** PJM_LEAR_WINDOWS: the calibration windows averaged (CWA), in days. */
    readonly windows: readonly number[];
    /** Per node: its exogenous series (feature columns of D) and the windows fitted. */
    readonly nodes: ReadonlyArray<{ readonly nodeId: number; readonly exogenousColumns: readonly string[]; readonly windows: readonly SidecarLearWindow[] }>;
  };
}

export interface SidecarMemberDescription {
  readonly variant: { readonly name: string };
  /** File name of the member's XGBoost JSON model, next to the sidecar. */
  readonly file: string;
  readonly rounds: number;
  readonly bestIteration: number | null;
  /** Learning curve: MAE in z space per round, on the training and validation days (null: a round with no score, NaN before JSON). */
  readonly learningCurve: { readonly train: readonly (number | null)[]; readonly valid: readonly (number | null)[] };
  /** Total gain by feature, largest first (top 30). */
  readonly importance: ReadonlyArray<readonly [string, number]>;
}

/** What describes a model: the part of the sidecar the UI shows. */
export interface SidecarDescription {
  readonly format: SidecarFormat;
  readonly market: Market;
  readonly featureNames: readonly string[];
  readonly members: readonly SidecarMemberDescription[];
  readonly window: { readonly firstDay: string; readonly lastDay: string; readonly validationFirstDay?: string };
  /** Metrics worth keeping with the model (e.g. the backtest's overall scores), free-form. */
  readonly metrics: { readonly [key: string]: JsonValue };
  readonly trainedAt: string;
}

export interface SidecarMember extends SidecarMemberDescription {
  readonly variant: VariantSpec;
  readonly learningCurve: { readonly train: readonly number[]; readonly valid: readonly number[] };
}

export interface ModelSidecar extends SidecarDescription {
  /**
   * The inputs the model reads: own price lags, DA price of D (RT), load forecast, metered
   * load, with their areas. Absent in sidecars written before sets were recorded: those used
   * `legacyFeatureSet(market)`.
   */
  readonly featureSet?: FeatureSet;
  readonly target: {
    readonly column: 'target';
    readonly description: string;
    readonly transform: PriceTransform;
  };
  readonly ensemble: 'mean of member price forecasts ($/MWh)';
  readonly members: readonly SidecarMember[];
  readonly window: TrainedModel['window'];
  readonly settings: TrainSettings;
  /**
   * Which family this model's forecasts come from, and its calibration: per-hour conformal
   * residual quantiles of that family's walk-forward forecasts (pjm/backtest), from which
   * every forecast gets its quantiles. Absent in sidecars written before calibrations.
   */
  readonly servedFamily?: FamilyChoice;
  readonly calibration?: ConformalCalibration;
  /** Format 2 only: the served families, weights and LEAR members. */
  readonly families?: SidecarFamilies;
  /** The backtest MAE of the served family on its test period (what no_worse_than_current compares). */
  readonly backtest?: { readonly mae: number; readonly testFirstDay: string; readonly testLastDay: string };
}

/** A sidecar that does not match its declared format: where it was read, the field, and what is wrong. */
export class SidecarError extends Error {
  override readonly name = 'SidecarError';
  constructor(
    readonly where: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(
      `${where}: the model sidecar's ${field === '' ? 'value' : `field ${field}`} ${problem}. Rematerialize pjm/model (assets/pjm/model writes sidecars of format ${SIDECAR_FORMAT}).`,
    );
  }
}

type Obj = { readonly [key: string]: unknown };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** Walks a JSON value, naming the path of whatever it finds wrong. */
class Reader {
  constructor(private readonly where: string) {}

  fail(path: string, problem: string): never {
    throw new SidecarError(this.where, path, problem);
  }
  object(v: unknown, path: string): Obj {
    return isObj(v) ? v : this.fail(path, v === undefined ? 'is missing' : `is ${shown(v)}, not an object`);
  }
  array(v: unknown, path: string, options: { nonEmpty?: boolean } = {}): readonly unknown[] {
    if (!Array.isArray(v)) return this.fail(path, v === undefined ? 'is missing' : `is ${shown(v)}, not an array`);
    if (options.nonEmpty && v.length === 0) this.fail(path, 'is empty');
    return v;
  }
  string(v: unknown, path: string): string {
    return typeof v === 'string' ? v : this.fail(path, v === undefined ? 'is missing' : `is ${shown(v)}, not a string`);
  }
  number(v: unknown, path: string): number {
    return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(path, v === undefined ? 'is missing' : `is ${shown(v)}, not a number`);
  }
  count(v: unknown, path: string): number {
    const n = this.number(v, path);
    return Number.isInteger(n) && n >= 0 ? n : this.fail(path, `is ${n}, not a whole number`);
  }
  oneOf<T extends string>(v: unknown, allowed: readonly T[], path: string): T {
    return (allowed as readonly unknown[]).includes(v)
      ? (v as T)
      : this.fail(path, `is ${shown(v)}, not one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
  /** Checks each element, naming its index. */
  each(v: unknown, path: string, check: (item: unknown, path: string) => void, options: { nonEmpty?: boolean } = {}): void {
    const items = this.array(v, path, options);
    for (let i = 0; i < items.length; i++) check(items[i], `${path}[${i}]`);
  }
}

/**
 * The sidecar in a materialization's metadata: at `sidecar` (as pjm/model stores it), or the
 * metadata itself when it carries a `format`; undefined for metadata with no sidecar at all.
 */
export function sidecarIn(metadata: { readonly [key: string]: JsonValue }): JsonValue | undefined {
  if (metadata.sidecar !== undefined) return metadata.sidecar;
  return typeof metadata.format === 'string' ? metadata : undefined;
}

function checkDescription(r: Reader, v: unknown): Obj {
  const s = r.object(v, '');
  r.oneOf(s.format, SIDECAR_FORMATS, 'format');
  r.oneOf(s.market, ['da', 'rt'], 'market');
  r.each(s.featureNames, 'featureNames', (f, p) => r.string(f, p), { nonEmpty: true });
  r.each(
    s.members,
    'members',
    (item, p) => {
      const m = r.object(item, p);
      r.string(r.object(m.variant, `${p}.variant`).name, `${p}.variant.name`);
      r.string(m.file, `${p}.file`);
      r.count(m.rounds, `${p}.rounds`);
      if (m.bestIteration !== null) r.count(m.bestIteration, `${p}.bestIteration`);
      const curve = r.object(m.learningCurve, `${p}.learningCurve`);
      for (const side of ['train', 'valid'] as const) r.each(curve[side], `${p}.learningCurve.${side}`, (x, q) => x === null || r.number(x, q));
      r.each(m.importance, `${p}.importance`, (pair, q) => {
        const [feature, gain, ...rest] = r.array(pair, q);
        r.string(feature, `${q}[0]`);
        r.number(gain, `${q}[1]`);
        if (rest.length > 0) r.fail(q, 'has more than a feature and its gain');
      });
    },
    { nonEmpty: true },
  );
  const window = r.object(s.window, 'window');
  r.string(window.firstDay, 'window.firstDay');
  r.string(window.lastDay, 'window.lastDay');
  if (window.validationFirstDay !== undefined) r.string(window.validationFirstDay, 'window.validationFirstDay');
  r.object(s.metrics, 'metrics');
  r.string(s.trainedAt, 'trainedAt');
  return s;
}

/** The description part of a sidecar, checked; throws a SidecarError naming `where` and the field. */
export function readSidecarDescription(value: unknown, where: string): SidecarDescription {
  return checkDescription(new Reader(where), value) as unknown as SidecarDescription;
}

/** A whole sidecar, checked for what predicting with it needs; throws a SidecarError naming `where` and the field. */
export function readModelSidecar(value: unknown, where: string): ModelSidecar {
  const r = new Reader(where);
  const s = checkDescription(r, value);
  const target = r.object(s.target, 'target');
  const transform = r.object(target.transform, 'target.transform');
  r.oneOf(transform.kind, ['asinh-median'], 'target.transform.kind');
  r.object(transform.byNode, 'target.transform.byNode');
  const settings = r.object(s.settings, 'settings');
  r.each(settings.variants, 'settings.variants', (v, p) => r.object(v, p), { nonEmpty: true });
  r.each(s.members, 'members', (m, p) =>
    r.oneOf((m as { variant: Obj }).variant.target, ['level', 'change_lag1', 'change_lag7', 'change_da'], `${p}.variant.target`),
  );
  if (s.featureSet !== undefined) r.each(r.object(s.featureSet, 'featureSet').inputs, 'featureSet.inputs', (i, p) => r.string(i, p));
  if (s.calibration !== undefined) r.array(r.object(s.calibration, 'calibration').offsets, 'calibration.offsets');
  if (s.format === SIDECAR_FORMAT_FAMILIES) {
    const f = r.object(s.families, 'families');
    const choice = r.oneOf(f.choice, ['lear', 'ensemble'], 'families.choice');
    r.oneOf(s.servedFamily, [choice], 'servedFamily');
    const weights = r.object(f.weights, 'families.weights');
    r.number(weights.xgboost, 'families.weights.xgboost');
    r.number(weights.lear, 'families.weights.lear');
    const lear = r.object(f.lear, 'families.lear');
    r.string(lear.file, 'families.lear.file');
    r.each(lear.windows, 'families.lear.windows', (w, p) => r.count(w, p), { nonEmpty: true });
    r.each(lear.nodes, 'families.lear.nodes', (item, p) => {
      const n = r.object(item, p);
      r.count(n.nodeId, `${p}.nodeId`);
      r.each(n.exogenousColumns, `${p}.exogenousColumns`, (c, q) => r.string(c, q));
      r.each(n.windows, `${p}.windows`, (wi, q) => {
        const w = r.object(wi, q);
        r.count(w.window, `${q}.window`);
        r.string(w.firstDay, `${q}.firstDay`);
        r.string(w.lastDay, `${q}.lastDay`);
      });
    });
  } else if (s.families !== undefined) {
    r.fail('families', `is set in a ${SIDECAR_FORMAT} sidecar, which serves XGBoost alone`);
  }
  return s as unknown as ModelSidecar;
}

/** The family a sidecar's model serves: format 1 is XGBoost alone. */
export function servedFamilyOf(sidecar: Pick<ModelSidecar, 'families'>): FamilyChoice {
  return sidecar.families?.choice ?? 'xgboost';
}
