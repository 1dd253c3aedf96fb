// A trained model as files: one XGBoost JSON model per ensemble member (each loadable by
// Python xgboost: `xgb.Booster(model_file=...)`) and a JSON sidecar holding everything needed
// to use and judge it: feature names and order, target definition and transform, training
// window, parameters, metrics, learning curve and feature importance.
import { Booster } from '../../../lib/xgboost/index.ts';
import type { TrainedModel } from './train.ts';
import { legacyFeatureSet, type FeatureSet } from '../features/columns.ts';
import { SIDECAR_FORMAT, SIDECAR_FORMATS, type ModelSidecar, type SidecarMember } from './sidecar.ts';

export type { ModelSidecar, SidecarMember } from './sidecar.ts';

export interface ModelFiles {
  readonly sidecar: ModelSidecar;
  /** File name → XGBoost JSON bytes, one per member. */
  readonly files: ReadonlyArray<{ readonly name: string; readonly bytes: Uint8Array }>;
}

const TARGET_DESCRIPTION =
  'Price ($/MWh) of EPT delivery day D at grid hour h in the row market. Each member predicts, in the per-node ' +
  'space z = asinh((p - median) / scale), z(p[D,h]) (target "level"), z(p[D,h]) - z(p[D-1,h]) ' +
  '("change_lag1"), z(p[D,h]) - z(p[D-7,h]) ("change_lag7") or, for RT, z(p[D,h]) - z(DA price[D,h]) ("change_da"), using its first `rounds` trees; price features are fed in the same z space; forecasts are mapped back with ' +
  'p = median + scale * sinh(z) and averaged over members.';

/**
 * The model's files: `${baseName}.json` for the first member, `${baseName}.${variant}.json`
 * for the others, and the sidecar (which the caller writes as JSON).
 */
export function modelFiles(model: TrainedModel, baseName: string, metrics: ModelSidecar['metrics'], now: Date = new Date()): ModelFiles {
  const files: Array<{ name: string; bytes: Uint8Array }> = [];
  const members: SidecarMember[] = model.members.map((m, i) => {
    const name = i === 0 ? `${baseName}.json` : `${baseName}.${m.variant.name}.json`;
    files.push({ name, bytes: m.booster.toBuffer('json') });
    const gain = m.booster.featureImportance('total_gain');
    return {
      variant: m.variant,
      file: name,
      rounds: m.rounds,
      bestIteration: m.bestIteration ?? null,
      learningCurve: {
        train: m.evalLog.map((r) => r.scores['train']?.['mae'] ?? Number.NaN),
        valid: m.evalLog.map((r) => r.scores['valid']?.['mae'] ?? Number.NaN),
      },
      importance: Object.entries(gain)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 30),
    };
  });
  return {
    files,
    sidecar: {
      format: SIDECAR_FORMAT,
      market: model.market,
      featureSet: model.featureSet,
      featureNames: model.featureNames,
      target: { column: 'target', description: TARGET_DESCRIPTION, transform: model.transform },
      ensemble: 'mean of member price forecasts ($/MWh)',
      members,
      window: model.window,
      settings: model.settings,
      metrics,
      trainedAt: now.toISOString(),
    },
  };
}

/** The feature set a sidecar's model reads (the legacy set for sidecars that predate recorded sets). */
export function sidecarFeatureSet(sidecar: Pick<ModelSidecar, 'market' | 'featureSet'>): FeatureSet {
  return sidecar.featureSet ?? legacyFeatureSet(sidecar.market);
}

/**
 * Loads a model's XGBoost members back from its sidecar and member bytes (as returned by
 * `modelFiles`, by file name). Predictions use each member's saved rounds. (A format-2 model's
 * LEAR members: model/served.ts.)
 */
export function loadModel(sidecar: ModelSidecar, bytesByFile: ReadonlyMap<string, Uint8Array>): TrainedModel {
  if (!(SIDECAR_FORMATS as readonly string[]).includes(sidecar.format))
    throw new Error(`loadModel: unknown sidecar format ${JSON.stringify(sidecar.format)}; expected one of ${SIDECAR_FORMATS.join(', ')}.`);
  return modelFromSidecar(
    sidecar,
    sidecar.members.map((m) => {
      const bytes = bytesByFile.get(m.file);
      if (bytes === undefined)
        throw new Error(`loadModel: the sidecar names member file ${m.file}, which was not given; pass every file listed in sidecar.members.`);
      return Booster.fromBuffer(bytes, `loading ${m.file}`);
    }),
  );
}

/**
 * The model a sidecar describes, with its members' boosters already loaded (one per
 * `sidecar.members`, in order). Predictions use each member's saved rounds.
 */
export function modelFromSidecar(sidecar: ModelSidecar, boosters: readonly Booster[]): TrainedModel {
  return {
    market: sidecar.market,
    featureSet: sidecarFeatureSet(sidecar),
    featureNames: sidecar.featureNames,
    transform: sidecar.target.transform,
    window: sidecar.window,
    settings: sidecar.settings,
    members: sidecar.members.map((m, i) => ({
      variant: m.variant,
      booster: boosters[i]!,
      rounds: m.rounds,
      bestIteration: m.bestIteration ?? undefined,
      bestScore: undefined,
      evalLog: [],
    })),
  };
}
