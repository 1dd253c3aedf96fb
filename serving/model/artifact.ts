// Reads a `pjm/model` materialization into a usable model: its metadata holds the sidecar
// written by assets/pjm/model/persist.ts (`modelFiles`), its file the bundle of every
// ensemble member's XGBoost JSON (assets/pjm/model-bundle.ts). Prediction then goes through the forecasting code (`predictRows`),
// so the server predicts exactly as the backtest and the `forecast` asset do.
import type { Metadata } from '../../runtime/index.ts';
import { modelFromSidecar, type ModelSidecar } from '../../assets/pjm/forecasting.ts';
import type { Booster } from '../../lib/xgboost/index.ts';
import type { TrainedModel } from '../../assets/pjm/forecasting.ts';

/** Why a materialization cannot be served; the old model keeps serving meanwhile. */
export class ModelArtifactError extends Error {
  override readonly name = 'ModelArtifactError';
}

/** The sidecar inside a model materialization's metadata (at `sidecar`, or the metadata itself). */
export function sidecarOf(metadata: Metadata, materializationId: number): ModelSidecar {
  const candidate = (isObject(metadata['sidecar']) ? metadata['sidecar'] : metadata) as Record<string, unknown>;
  if (candidate['format'] !== 'pjm-lmp-xgb/1') {
    throw new ModelArtifactError(
      `pjm/model materialization ${materializationId} has no model sidecar (format "pjm-lmp-xgb/1") in its metadata; it was not written by assets/pjm/model. Rematerialize pjm/model.`,
    );
  }
  const problems: string[] = [];
  if (candidate['market'] !== 'da' && candidate['market'] !== 'rt') problems.push('market is not "da" or "rt"');
  if (!Array.isArray(candidate['featureNames']) || candidate['featureNames'].length === 0) problems.push('featureNames is missing or empty');
  if (!isObject(candidate['target']) || !isObject((candidate['target'] as Record<string, unknown>)['transform'])) problems.push('target.transform is missing');
  if (!Array.isArray(candidate['members']) || candidate['members'].length === 0) problems.push('members is missing or empty');
  if (!isObject(candidate['settings'])) problems.push('settings is missing');
  if (problems.length > 0) {
    throw new ModelArtifactError(`pjm/model materialization ${materializationId}: the sidecar is incomplete (${problems.join('; ')}). Rematerialize pjm/model.`);
  }
  return candidate as unknown as ModelSidecar;
}

/**
 * The model of one materialization from its sidecar and its members' boosters (parsed from
 * the stored bundle off the main thread, in the sidecar's order), checked against the
 * sidecar, then assembled as `loadModel` does (`modelFromSidecar`).
 */
export function modelFromArtifact(sidecar: ModelSidecar, boosters: readonly Booster[], materializationId: number): TrainedModel {
  if (boosters.length !== sidecar.members.length) {
    throw new ModelArtifactError(`pjm/model materialization ${materializationId}: ${boosters.length} boosters for ${sidecar.members.length} sidecar members.`);
  }
  const expected = sidecar.featureNames.length;
  boosters.forEach((b, i) => {
    if (b.numFeatures !== expected) {
      throw new ModelArtifactError(`pjm/model materialization ${materializationId}: member ${sidecar.members[i]!.file} has ${b.numFeatures} features but the sidecar names ${expected}.`);
    }
  });
  return modelFromSidecar(sidecar, boosters);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
