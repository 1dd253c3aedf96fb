// Reads a `pjm/model` bundle file (every ensemble member's XGBoost JSON, assets/pjm/model-bundle.ts)
// and parses its members, in the sidecar's order, into Boosters off the main event loop
// (lib/xgboost's loadBoostersOffThread), handing back the bytes of any other bundle files asked
// for (a served model's LEAR members).
import { readFile } from 'node:fs/promises';
import { decodeModelBundle } from '../../assets/pjm/forecasting.ts';
import { loadBoostersOffThread, type Booster } from '../../lib/xgboost/index.ts';

export interface LoadedBundle {
  readonly boosters: Booster[];
  /** File name -> bytes of each of `otherFiles`. */
  readonly others: ReadonlyMap<string, Uint8Array>;
}

export async function loadBundleOffThread(path: string, files: readonly string[], otherFiles: readonly string[] = []): Promise<LoadedBundle> {
  const members = decodeModelBundle(await readFile(path), path);
  const bytesOf = (file: string, what: string): Uint8Array => {
    const bytes = members.get(file);
    if (bytes === undefined) throw new Error(`the bundle ${path} has no ${what} ${file} (it has ${[...members.keys()].join(', ') || 'none'})`);
    return bytes;
  };
  const others = new Map(otherFiles.map((file) => [file, bytesOf(file, 'file')] as const));
  const boosters = await loadBoostersOffThread(files.map((file) => ({ name: `member ${file} of ${path}`, bytes: bytesOf(file, 'member') })));
  return { boosters, others };
}
