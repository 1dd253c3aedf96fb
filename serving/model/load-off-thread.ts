// Reads a `pjm/model` bundle file (every ensemble member's XGBoost JSON, assets/pjm/model-bundle.ts)
// and parses its members, in the sidecar's order, into Boosters off the main event loop
// (lib/xgboost's loadBoostersOffThread).
import { readFile } from 'node:fs/promises';
import { decodeModelBundle } from '../../assets/pjm/forecasting.ts';
import { loadBoostersOffThread, type Booster } from '../../lib/xgboost/index.ts';

export async function loadBundleOffThread(path: string, files: readonly string[]): Promise<Booster[]> {
  const members = decodeModelBundle(await readFile(path), path);
  return loadBoostersOffThread(
    files.map((file) => {
      const bytes = members.get(file);
      if (bytes === undefined) throw new Error(`the bundle ${path} has no member ${file} (it has ${[...members.keys()].join(', ') || 'none'})`);
      return { name: `member ${file} of ${path}`, bytes };
    }),
  );
}
