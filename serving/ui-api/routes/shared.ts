// What the UI's route modules share: their OpenAPI tag, and how a path's asset key and the
// runtime's errors become HTTP errors.
import { isRuntimeError, type AssetKey, type Instance } from '../../../runtime/index.ts';
import { HttpError } from '../../routes.ts';

export const TAG = 'ui';

export function assetKeyOrThrow(instance: Instance<unknown>, raw: string): AssetKey {
  if (!instance.graph.has(raw)) {
    throw new HttpError(404, 'not_found', `No asset ${JSON.stringify(raw)} is defined. GET /api/graph lists the asset keys (escape "/" as %2F in the path).`);
  }
  return raw;
}

/** Selection and partition mistakes are the caller's: a 400 that repeats the runtime's explanation. */
export function asHttpError(err: unknown): unknown {
  if (isRuntimeError(err)) return new HttpError(400, 'bad_request', err.message, { reason: err.reason });
  return err;
}
