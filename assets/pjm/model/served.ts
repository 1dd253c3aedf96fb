// The model as it is served: its XGBoost members and, for PJM_MODEL_FAMILIES=lear or
// ensemble, its LEAR members (assets/pjm/lear/served.ts), combined per hour as the backtest
// scored them (ensemble.ts `servedValues`). pjm/model writes it (a format-2 sidecar naming the
// families, windows and weights, and the LEAR file in the bundle); pjm/forecast and the server
// read it back and forecast a node-day with `forecastNodeDay`.
import type { FamilyChoice } from '../config.ts';
import { decodeLearArtifact, learForecastDay, servedLear, type LearArtifact, type LearDayForecast, type ServedLear } from '../lear/served.ts';
import type { FeatureTable } from './dataset.ts';
import { equalWeights, familiesOf, servedValues } from './ensemble.ts';
import { SIDECAR_FORMAT_FAMILIES, servedFamilyOf, type ModelSidecar, type SidecarFamilies } from './sidecar.ts';
import { predictRows, type TrainedModel } from './train.ts';

export interface ServableModel {
  readonly family: FamilyChoice;
  readonly xgboost: TrainedModel;
  /** Null for XGBoost alone. */
  readonly lear: ServedLear | null;
}

/** The bundle file name of the LEAR members of a model whose XGBoost members are `${baseName}*.json`. */
export const learFileName = (baseName: string): string => `${baseName}.lear.json`;

/**
 * The format-2 sidecar of a model serving `choice`: the XGBoost sidecar plus the families,
 * the weights of the served mean and the LEAR members (per node, the windows and their days).
 */
export function familiesSidecar(base: ModelSidecar, choice: Exclude<FamilyChoice, 'xgboost'>, lear: LearArtifact, file: string): ModelSidecar {
  const weights = equalWeights(familiesOf(choice));
  const families: SidecarFamilies = {
    choice,
    weights,
    combination:
      choice === 'lear'
        ? "LEAR's calibration window average per hour; XGBoost's forecast where LEAR has none (its inputs of D-1..D-7 incomplete, or no whole window for the node)"
        : "the plain mean per hour of XGBoost's forecast (the mean of its members) and LEAR's calibration window average; XGBoost alone where LEAR has none",
    lear: {
      file,
      windows: lear.windows,
      nodes: lear.nodes.map((n) => ({
        nodeId: n.nodeId,
        exogenousColumns: n.exogenousColumns,
        windows: n.windows.map((w) => ({ window: w.window, firstDay: w.firstDay, lastDay: w.lastDay })),
      })),
    },
  };
  return { ...base, format: SIDECAR_FORMAT_FAMILIES, servedFamily: choice, families };
}

/**
 * The served model from its sidecar, its XGBoost members (loaded) and the bundle's files: a
 * format-2 sidecar's LEAR file is decoded and checked against the sidecar's nodes and windows.
 */
export function servableModel(sidecar: ModelSidecar, xgboost: TrainedModel, fileBytes: (name: string) => Uint8Array | undefined, where: string): ServableModel {
  const family = servedFamilyOf(sidecar);
  if (sidecar.families === undefined) return { family, xgboost, lear: null };
  const file = sidecar.families.lear.file;
  const bytes = fileBytes(file);
  if (bytes === undefined) throw new Error(`${where}: the sidecar names the LEAR file ${file}, which the model bundle lacks. Rematerialize pjm/model.`);
  const artifact = decodeLearArtifact(bytes, `${where}, ${file}`);
  const described = sidecar.families.lear.nodes.map((n) => `${n.nodeId}:${n.windows.map((w) => w.window).join('/')}`).join(',');
  const stored = artifact.nodes.map((n) => `${n.nodeId}:${n.windows.map((w) => w.window).join('/')}`).join(',');
  if (described !== stored)
    throw new Error(`${where}: the sidecar's LEAR nodes and windows (${described}) are not those of ${file} (${stored}). Rematerialize pjm/model.`);
  return { family, xgboost, lear: servedLear(artifact) };
}

export interface NodeDayForecast {
  /** One per row of the day's table, $/MWh. */
  readonly values: Float64Array;
  /** XGBoost's forecast alone, per row. */
  readonly xgboost: Float64Array;
  /** LEAR's forecast per grid hour, or why it has none (the hours then fall back to XGBoost); null for XGBoost alone. */
  readonly lear: LearDayForecast | null;
}

/**
 * The served forecast of one node-day: XGBoost's on the day's rows, LEAR's from `learRows` (the
 * node's feature rows of `learInputDays`), combined as the backtest combined them.
 */
export function forecastNodeDay(model: ServableModel, dayRows: FeatureTable, nodeId: number, day: string, learRows: FeatureTable | null): NodeDayForecast {
  const xgboost = predictRows(model.xgboost, dayRows, 0, dayRows.rows);
  if (model.lear === null) return { values: xgboost, xgboost, lear: null };
  const lear = learRows === null ? { ok: false as const, reason: 'no LEAR input rows were given' } : learForecastDay(model.lear, nodeId, day, learRows);
  const learByRow = Float64Array.from(dayRows.hour, (h) => (lear.ok ? lear.values[h]! : Number.NaN));
  return { values: servedValues(model.family, xgboost, learByRow).values, xgboost, lear };
}
