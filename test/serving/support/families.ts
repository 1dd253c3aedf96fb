// Test helpers for a served family (PJM_MODEL_FAMILIES=lear or ensemble): the real pipeline
// (assets/definitions.ts on the bundled epftoolbox data, 2016-09-20..2017-01-10, whose default
// test period is epftoolbox's, clipped to 15 days: every hour has residuals to calibrate on)
// materialized up to pjm/forecast, a server over it, and each family's forecast of a day
// computed offline from the features asset's rows: XGBoost from the stored members, LEAR fitted
// here with lib/lear on each window's latest whole days of the panel the backtest builds.
import { readFile } from 'node:fs/promises';
import { loadDefinitions } from '../../../runtime/cli/load-definitions.ts';
import { duckdbConnect, Instance, materialize } from '../../../runtime/index.ts';
import { disposeModel, loadModel, predictRows, readFeatureTable, type ModelSidecar } from '../../../assets/pjm/model/index.ts';
import { rowsBetween } from '../../../assets/pjm/model/dataset.ts';
import { decodeModelBundle } from '../../../assets/pjm/model-bundle.ts';
import { completeDays, learPanelsFromFeatures } from '../../../assets/pjm/lear/features-panel.ts';
import { dayNumberOf } from '../../../lib/days.ts';
import { fitLear, predictLear } from '../../../lib/lear/index.ts';
import { tempDir } from '../../support/tmp.ts';
import { startTestServer, type TestServer } from './server.ts';

export const START = '2016-09-20';
export const END = '2017-01-10';

/** Runs the pipeline with the family and LEAR windows, then serves it. */
export async function servedFamilyPipeline(family: 'lear' | 'ensemble', windows: readonly number[]): Promise<TestServer> {
  const dataDir = tempDir(`serving-${family}`);
  Object.assign(process.env, { PJM_START: START, PJM_END: END, DATA_DIR: dataDir, PJM_MODEL_FAMILIES: family, PJM_LEAR_WINDOWS: windows.join(',') });
  const instance = await Instance.open(await loadDefinitions(undefined, { dataDir, env: process.env }), { dataDir });
  const run = await materialize(instance, { selection: '+pjm/forecast', trigger: 'test' });
  if (run.status !== 'succeeded') throw new Error(`the pipeline up to pjm/forecast ${run.status}: ${JSON.stringify(run.counts)}`);
  return startTestServer(instance);
}

export async function currentModel(instance: Instance<unknown>): Promise<{ sidecar: ModelSidecar; bundle: Map<string, Uint8Array> }> {
  const current = (await instance.store.current('pjm/model' as never, ''))!;
  const record = (await instance.store.materialization(current.id))!;
  const sidecar = (record.metadata as unknown as { sidecar: ModelSidecar }).sidecar;
  return { sidecar, bundle: decodeModelBundle(await readFile(await instance.storage.localPath(record.location!))) };
}

export const currentPaths = async (instance: Instance<unknown>, asset: string): Promise<string[]> =>
  Promise.all(
    [...((await instance.store.snapshot([asset as never])).get(asset as never) ?? new Map()).values()].map((c) => instance.storage.localPath(c.location)),
  );

/** XGBoost's and LEAR's (CWA over `windows`; NaN when LEAR lacks the day's inputs) 24 grid-hour forecasts of the node's `day`, computed offline. */
export async function offlineFamilies(
  instance: Instance<unknown>,
  nodeId: number,
  day: string,
  windows: readonly number[],
): Promise<{ xgboost: number[]; lear: number[] }> {
  const { sidecar, bundle } = await currentModel(instance);
  const conn = await duckdbConnect();
  try {
    const table = await readFeatureTable(conn, await currentPaths(instance, 'pjm/features'), sidecar.featureSet!);
    const model = loadModel(sidecar, bundle);
    const { start, end } = rowsBetween(table, dayNumberOf(day), dayNumberOf(day));
    const xgb = predictRows(model, table, start, end);
    disposeModel(model);
    const node = learPanelsFromFeatures(table).find((p) => p.nodeId === nodeId)!;
    const complete = completeDays(node.panel);
    const d = dayNumberOf(day) - node.firstDayNumber;
    const perWindow = windows.map((w) => {
      let last = node.panel.days.length - 1;
      while (complete.subarray(last + 1 - w, last + 1).includes(0)) last--;
      const model = fitLear({ panel: node.panel, lastTrainDay: last, window: w });
      try {
        return predictLear(model, node.panel, d);
      } catch {
        return new Float64Array(24).fill(Number.NaN); // the day's inputs reach before the panel: no LEAR forecast
      }
    });
    const hours = table.hour.subarray(start, end);
    return {
      xgboost: Array.from({ length: 24 }, (_, h) => xgb[hours.indexOf(h)]!),
      lear: Array.from({ length: 24 }, (_, h) => perWindow.reduce((s, f) => s + f[h]!, 0) / perWindow.length),
    };
  } finally {
    conn.closeSync();
  }
}
