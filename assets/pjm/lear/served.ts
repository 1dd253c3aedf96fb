// The LEAR family of a served model (PJM_MODEL_FAMILIES=lear or ensemble): per node, one LEAR
// per calibration window (PJM_LEAR_WINDOWS), fitted on that window's latest whole stretch of
// the node's panel (as the backtest's walk-forward fits it before each day, walk-forward.ts),
// stored as one JSON file of the model bundle, and the forecast of a node-day from its feature
// rows: the windows' LEAR forecasts averaged (CWA, `windowMean`). The inputs come from the same
// feature rows the backtest's panel was built from (features-panel.ts): the rows of D (its price
// lags give D-1, D-2, D-3 and D-7) and, when the node's LEAR reads exogenous series, those of D-1
// and D-7 (the series of D-1 and D-7).
import { fitLear, predictLear, type LearModel, type LearOptions } from '../../../lib/lear/index.ts';
import { dayNumberOf, dayOfNumber } from '../../../lib/days.ts';
import type { FeatureTable } from '../model/dataset.ts';
import { completeDays, learPanelForNode, learPanelsFromFeatures, type NodePanel } from './features-panel.ts';
import { completePrefix, learFeatureMatrixSafe, windowMean } from './walk-forward.ts';

/** The bundle file format of the LEAR members. */
export const LEAR_ARTIFACT_FORMAT = 'pjm-lear/1';

/** One fitted window of one node: what `predictLear` needs, with the days it was fitted on. */
export interface LearWindowFit {
  readonly window: number;
  /** First and last day of the calibration window (its first week feeds the lags only). */
  readonly firstDay: string;
  readonly lastDay: string;
  readonly featureCount: number;
  /** Chosen penalty per hour (AIC). */
  readonly alphas: readonly number[];
  readonly intercept: readonly number[];
  /** coef[h][j]: hour h's coefficient of input j on the transformed inputs. */
  readonly coef: readonly (readonly number[])[];
  readonly scalerX: { readonly median: readonly number[]; readonly scale: readonly number[] };
  readonly scalerY: { readonly median: readonly number[]; readonly scale: readonly number[] };
}

export interface LearNodeFit {
  readonly nodeId: number;
  /** The feature columns of D that are its exogenous series, in order (learExogenousColumns, less those this node has no value of). */
  readonly exogenousColumns: readonly string[];
  /** One per configured window, or none when the node's history lacks a whole stretch of some window (CWA needs them all). */
  readonly windows: readonly LearWindowFit[];
}

export interface LearArtifact {
  readonly format: typeof LEAR_ARTIFACT_FORMAT;
  readonly windows: readonly number[];
  readonly nodes: readonly LearNodeFit[];
}

/**
 * Fits every node's LEAR on each window's latest whole stretch of its panel: the window ending
 * on the latest day such that it holds no incomplete day (the walk-forward's rule for a fit).
 */
export function fitServedLear(table: FeatureTable, windows: readonly number[], options?: LearOptions & { signal?: AbortSignal }): LearArtifact {
  return fitServedLearOnPanels(learPanelsFromFeatures(table), windows, options);
}

/** The same over panels already built (`learPanelsFromFeatures`): what the backtest's LEAR worker fits (off-thread.ts). */
export function fitServedLearOnPanels(
  panels: readonly NodePanel[],
  windows: readonly number[],
  options?: LearOptions & { signal?: AbortSignal },
): LearArtifact {
  if (windows.length === 0) throw new Error('fitServedLear: no calibration windows given; set PJM_LEAR_WINDOWS (e.g. 56,84).');
  const nodes: LearNodeFit[] = [];
  for (const { nodeId, firstDayNumber, exogenousColumns, panel } of panels) {
    const prefix = completePrefix(completeDays(panel));
    // Each window's latest whole stretch; a node without one for every window gets no LEAR (CWA
    // averages all of them, as the walk-forward's does), and the ensemble serves XGBoost alone.
    const lastDays = windows.map((window) => {
      let last = panel.days.length - 1;
      while (last + 1 - window >= 0 && prefix[last + 1]! - prefix[last + 1 - window]! !== window) last--;
      return last + 1 - window < 0 ? undefined : last;
    });
    if (lastDays.includes(undefined)) {
      nodes.push({ nodeId, exogenousColumns, windows: [] });
      continue;
    }
    const features = learFeatureMatrixSafe(panel);
    const fits = windows.map((window, k): LearWindowFit => {
      options?.signal?.throwIfAborted();
      const last = lastDays[k]!;
      const m = fitLear({ panel, lastTrainDay: last, window, features }, options);
      return {
        window,
        firstDay: dayOfNumber(firstDayNumber + last + 1 - window),
        lastDay: dayOfNumber(firstDayNumber + last),
        featureCount: m.featureCount,
        alphas: [...m.alphas],
        intercept: [...m.intercept],
        coef: m.coef.map((c) => [...c]),
        scalerX: { median: [...m.scalerX.median], scale: [...m.scalerX.scale] },
        scalerY: { median: [...m.scalerY.median], scale: [...m.scalerY.scale] },
      };
    });
    nodes.push({ nodeId, exogenousColumns, windows: fits });
  }
  return { format: LEAR_ARTIFACT_FORMAT, windows: [...windows], nodes };
}

export function encodeLearArtifact(a: LearArtifact): Uint8Array {
  // JSON numbers round-trip doubles exactly (shortest representation), so the served forecast is the fitted one.
  return Buffer.from(JSON.stringify(a));
}

/** The artifact in a bundle file, checked: throws naming `where` and the field that is wrong. */
export function decodeLearArtifact(bytes: Uint8Array, where: string): LearArtifact {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw new Error(`${where}: the LEAR members are not JSON. Rematerialize pjm/model.`);
  }
  return checkLearArtifact(v, where);
}

/**
 * A parsed artifact (a bundle file's, or the one pjm/backtest fitted and stores for pjm/model),
 * checked: throws naming `where`, the field that is wrong and what to rematerialize (`asset`).
 */
export function checkLearArtifact(v: unknown, where: string, asset = 'pjm/model'): LearArtifact {
  const fail = (field: string, problem: string): never => {
    throw new Error(`${where}: the LEAR members' ${field} ${problem}. Rematerialize ${asset} (it writes ${LEAR_ARTIFACT_FORMAT}).`);
  };
  const a = v as LearArtifact;
  if (typeof v !== 'object' || v === null || a.format !== LEAR_ARTIFACT_FORMAT)
    fail('format', `is ${JSON.stringify((v as { format?: unknown } | null)?.format)}, not ${LEAR_ARTIFACT_FORMAT}`);
  if (!Array.isArray(a.nodes)) fail('nodes', 'is not an array');
  const numbers = (xs: unknown, n: number, field: string): void => {
    if (!Array.isArray(xs) || xs.length !== n || !xs.every((x) => typeof x === 'number' && Number.isFinite(x))) fail(field, `is not ${n} finite numbers`);
  };
  a.nodes.forEach((node, i) => {
    if (!Number.isInteger(node.nodeId)) fail(`nodes[${i}].nodeId`, 'is not an integer');
    if (!Array.isArray(node.exogenousColumns) || !node.exogenousColumns.every((c) => typeof c === 'string'))
      fail(`nodes[${i}].exogenousColumns`, 'is not a list of column names');
    node.windows.forEach((w, k) => {
      const at = `nodes[${i}].windows[${k}]`;
      const p = w.featureCount;
      if (!Number.isInteger(p) || p <= 0) fail(`${at}.featureCount`, 'is not a positive integer');
      numbers(w.intercept, 24, `${at}.intercept`);
      numbers(w.alphas, 24, `${at}.alphas`);
      if (!Array.isArray(w.coef) || w.coef.length !== 24) fail(`${at}.coef`, 'does not have 24 hours');
      w.coef.forEach((c, h) => {
        numbers(c, p, `${at}.coef[${h}]`);
      });
      numbers(w.scalerX?.median, p - 7, `${at}.scalerX.median`);
      numbers(w.scalerX?.scale, p - 7, `${at}.scalerX.scale`);
      numbers(w.scalerY?.median, 24, `${at}.scalerY.median`);
      numbers(w.scalerY?.scale, 24, `${at}.scalerY.scale`);
    });
  });
  return a;
}

/** A stored window as `predictLear`'s model (the warm start is for refits only; a served model is not refitted). */
function asLearModel(w: LearWindowFit): LearModel {
  return {
    window: w.window,
    lastTrainDay: -1,
    featureCount: w.featureCount,
    alphas: Float64Array.from(w.alphas),
    coef: w.coef.map((c) => Float64Array.from(c)),
    intercept: Float64Array.from(w.intercept),
    warmStart: [],
    scalerX: { median: Float64Array.from(w.scalerX.median), scale: Float64Array.from(w.scalerX.scale) },
    scalerY: { median: Float64Array.from(w.scalerY.median), scale: Float64Array.from(w.scalerY.scale) },
  };
}

/** The LEAR members ready to predict: each node's windows as `predictLear` models. */
export interface ServedLear {
  readonly artifact: LearArtifact;
  readonly byNode: ReadonlyMap<number, { readonly fit: LearNodeFit; readonly models: readonly LearModel[] }>;
}

export function servedLear(artifact: LearArtifact): ServedLear {
  return { artifact, byNode: new Map(artifact.nodes.map((n) => [n.nodeId, { fit: n, models: n.windows.map(asLearModel) }])) };
}

/** The days whose feature rows LEAR reads to forecast `day` for this node: D and, with exogenous series, D-1 and D-7 (oldest first). */
export function learInputDays(lear: ServedLear, nodeId: number, day: string): string[] {
  const node = lear.byNode.get(nodeId);
  const d = dayNumberOf(day);
  return node !== undefined && node.fit.exogenousColumns.length > 0 ? [d - 7, d - 1, d].map(dayOfNumber) : [day];
}

export type LearDayForecast = { readonly ok: true; readonly values: Float64Array } | { readonly ok: false; readonly reason: string };

/**
 * The CWA forecast of the node's 24 grid hours of `day` from feature rows (the rows of
 * `learInputDays`; other rows are ignored), or why there is none: the node has no LEAR fit, or an
 * input of D-1..D-7 is missing. The ensemble then falls back to XGBoost, as the backtest did.
 */
export function learForecastDay(lear: ServedLear, nodeId: number, day: string, rows: FeatureTable): LearDayForecast {
  const node = lear.byNode.get(nodeId);
  if (node === undefined || node.models.length === 0)
    return {
      ok: false,
      reason: `no LEAR was fitted for node ${nodeId} (its history does not hold a whole stretch of every calibration window, ${lear.artifact.windows.join('/')} days, which CWA averages)`,
    };
  const d = dayNumberOf(day);
  const { panel } = learPanelForNode(rows, nodeId, { firstDayNumber: d - 7, lastDayNumber: d, exogenousColumns: node.fit.exogenousColumns });
  const perWindow: Float64Array[] = [];
  for (const model of node.models) {
    try {
      perWindow.push(predictLear(model, panel, 7));
    } catch (err) {
      return { ok: false, reason: `LEAR's inputs are incomplete: ${(err as Error).message.replace(/^LEAR: /, '')}` };
    }
  }
  return { ok: true, values: windowMean(perWindow) };
}
