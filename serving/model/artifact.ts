// Reads a `pjm/model` materialization into a usable model: its metadata holds the sidecar
// written by assets/pjm/model/persist.ts (`modelFiles`), its file the bundle of every
// ensemble member's XGBoost JSON (assets/pjm/model-bundle.ts) and, for a model serving LEAR
// (sidecar format 2), the LEAR members' file. Prediction then goes through the forecasting
// code (`forecastNodeDay`), so the server predicts exactly as the backtest and the `forecast` asset do.
import type { Metadata } from '../../runtime/index.ts';
import {
  modelFromSidecar,
  readModelSidecar,
  servableModel,
  SIDECAR_FORMATS,
  SidecarError,
  sidecarIn,
  type ModelSidecar,
  type ServableModel,
} from '../../assets/pjm/forecasting.ts';
import type { Booster } from '../../lib/xgboost/index.ts';
import type { TrainedModel } from '../../assets/pjm/forecasting.ts';

/** Why a materialization cannot be served; the old model keeps serving meanwhile. */
export class ModelArtifactError extends Error {
  override readonly name = 'ModelArtifactError';
}

/** The sidecar inside a model materialization's metadata, checked against its declared format (assets/pjm/model/sidecar.ts). */
export function sidecarOf(metadata: Metadata, materializationId: number): ModelSidecar {
  const where = `pjm/model materialization ${materializationId}`;
  const sidecar = sidecarIn(metadata);
  if (sidecar === undefined) {
    throw new ModelArtifactError(
      `${where} has no model sidecar (format ${SIDECAR_FORMATS.map((f) => `"${f}"`).join(' or ')}) in its metadata; it was not written by assets/pjm/model. Rematerialize pjm/model.`,
    );
  }
  try {
    return readModelSidecar(sidecar, where);
  } catch (err) {
    if (err instanceof SidecarError) throw new ModelArtifactError(err.message);
    throw err;
  }
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
      throw new ModelArtifactError(
        `pjm/model materialization ${materializationId}: member ${sidecar.members[i]!.file} has ${b.numFeatures} features but the sidecar names ${expected}.`,
      );
    }
  });
  return modelFromSidecar(sidecar, boosters);
}

/** The served model (its family, the XGBoost members and, with LEAR served, the LEAR members from the bundle's bytes). */
export function servableFromArtifact(
  sidecar: ModelSidecar,
  model: TrainedModel,
  others: ReadonlyMap<string, Uint8Array>,
  materializationId: number,
): ServableModel {
  try {
    return servableModel(sidecar, model, (name) => others.get(name), `pjm/model materialization ${materializationId}`);
  } catch (err) {
    throw new ModelArtifactError((err as Error).message);
  }
}
