// Which model serves: the current `pjm/model` materialization in the lineage store. The
// registry polls the store for a new current id, loads the new model completely (files,
// sidecar, a warm-up prediction) before swapping it in, and frees the old one only when the
// last request that took it has finished, so a swap never fails a request in flight. A
// materialization that fails to load is logged and skipped: the old model keeps serving.
// (A failed or blocked materialization never becomes current in the store to begin with.)
import type { Logger } from 'pino';
import { assetKey, errorMessage, type AssetKey, type InputRecord, type LineageStore, type Storage } from '../../runtime/index.ts';
import type { ModelSidecar, ServableModel } from '../../assets/pjm/forecasting.ts';
import { ASSET_KEYS, disposeModel, type TrainedModel } from '../../assets/pjm/forecasting.ts';
import { HttpError } from '../http/errors.ts';
import type { ServingMetrics } from '../metrics.ts';
import { modelFromArtifact, servableFromArtifact, sidecarOf } from './artifact.ts';
import { loadBundleOffThread } from './load-off-thread.ts';

export const MODEL_ASSET: AssetKey = assetKey(ASSET_KEYS.model);

/** A loaded model and where it came from. Immutable; shared by every request that uses it. */
export interface ServedModel {
  readonly materializationId: number;
  /** Content hash of the model file: the model's version. */
  readonly dataVersion: string;
  readonly codeVersion: string;
  readonly runId: string;
  /** When it was trained (sidecar), else when its materialization ended. */
  readonly trainedAt: string;
  readonly loadedAt: string;
  readonly sidecar: ModelSidecar;
  /** The XGBoost members. */
  readonly model: TrainedModel;
  /** What /predict forecasts with: the served family (sidecar `families`), `model` and, with LEAR served, the LEAR members. */
  readonly servable: ServableModel;
  /** The materializations it consumed (its lineage, one level up). */
  readonly inputs: readonly InputRecord[];
}

export interface ModelRegistryOptions {
  readonly store: LineageStore;
  readonly storage: Storage;
  readonly log: Logger;
  readonly metrics: ServingMetrics;
  readonly pollIntervalMs: number;
  readonly asset?: AssetKey;
}

export class ModelRegistry {
  #current: ServedModel | undefined;
  #reason = 'The server is starting and has not read the lineage store yet.';
  #users = new Map<ServedModel, number>();
  #retired = new Set<ServedModel>();
  #failedId: number | undefined;
  #lastFailure: { readonly materializationId: number; readonly message: string; readonly at: string } | undefined;
  #refreshing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly asset: AssetKey;

  constructor(private readonly options: ModelRegistryOptions) {
    this.asset = options.asset ?? MODEL_ASSET;
  }

  /** Loads the current model (if any) and starts polling for new ones. */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.options.pollIntervalMs);
    this.#timer.unref();
  }

  /** Stops polling and frees every model no request still uses. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#current) this.#retire(this.#current);
    this.#current = undefined;
    this.#reason = 'The server is shutting down.';
  }

  current(): ServedModel | undefined {
    return this.#current;
  }

  /** The newest materialization that could not be loaded, while an older model may keep serving. */
  get lastFailure(): { readonly materializationId: number; readonly message: string; readonly at: string } | undefined {
    return this.#lastFailure;
  }

  /** Why no model serves (meaningful when `current()` is undefined). */
  get unavailableReason(): string {
    return this.#reason;
  }

  /**
   * Runs `fn` with the current model, which stays loaded until `fn` settles even if a new
   * one is swapped in meanwhile. Throws 503 `no_model` (with the reason) when there is none.
   */
  async use<T>(fn: (model: ServedModel) => Promise<T> | T): Promise<T> {
    const model = this.#current;
    if (!model) throw new HttpError(503, 'no_model', this.#reason, undefined, { 'Retry-After': '5' });
    this.#users.set(model, (this.#users.get(model) ?? 0) + 1);
    try {
      return await fn(model);
    } finally {
      const left = this.#users.get(model)! - 1;
      if (left > 0) this.#users.set(model, left);
      else {
        this.#users.delete(model);
        if (this.#retired.has(model)) this.#dispose(model);
      }
    }
  }

  /** Checks the store once and swaps in a new current model if there is one. Never throws. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    const { store, log } = this.options;
    let current: Awaited<ReturnType<LineageStore['current']>>;
    try {
      current = await store.current(this.asset, '');
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'reading the current model from the lineage store failed');
      return;
    }
    if (!current) {
      if (!this.#current) {
        this.#reason = `No ${this.asset} materialization is current in the lineage store (${store.location}). Materialize it first: node bin/materialize.js ${this.asset}`;
      }
      return;
    }
    if (current.id === this.#current?.materializationId || current.id === this.#failedId) return;
    const started = Date.now();
    try {
      const served = await this.#load(current.id);
      const old = this.#current;
      this.#current = served;
      this.#failedId = undefined;
      this.#lastFailure = undefined;
      if (old) this.#retire(old);
      this.options.metrics.modelSwaps.inc({ result: 'loaded' });
      this.options.metrics.modelInfo.reset();
      this.options.metrics.modelInfo.set({ materialization_id: String(served.materializationId), data_version: served.dataVersion }, 1);
      this.options.metrics.modelLoadedAt.set(Date.now() / 1000);
      log.info(
        { materializationId: served.materializationId, dataVersion: served.dataVersion, previous: old?.materializationId ?? null, ms: Date.now() - started },
        old ? 'swapped in a new model' : 'loaded the model',
      );
    } catch (err) {
      this.#failedId = current.id;
      this.options.metrics.modelSwaps.inc({ result: 'failed' });
      const message = errorMessage(err);
      this.#lastFailure = { materializationId: current.id, message, at: new Date().toISOString() };
      if (!this.#current) this.#reason = `The current ${this.asset} (materialization ${current.id}) could not be loaded: ${message}`;
      log.error(
        { materializationId: current.id, err: message },
        this.#current ? 'new model could not be loaded; the previous one keeps serving' : 'model could not be loaded',
      );
    }
  }

  async #load(id: number): Promise<ServedModel> {
    const { store, storage } = this.options;
    const record = await store.materialization(id);
    if (!record || record.location === null) throw new Error(`materialization ${id} has no stored file`);
    const sidecar = sidecarOf(record.metadata, id);
    const path = await storage.localPath(record.location);
    let loaded: Awaited<ReturnType<typeof loadBundleOffThread>>;
    try {
      loaded = await loadBundleOffThread(
        path,
        sidecar.members.map((m) => m.file),
        sidecar.families ? [sidecar.families.lear.file] : [],
      );
    } catch (err) {
      throw new Error(`pjm/model materialization ${id} could not be loaded from ${path}: ${errorMessage(err)}`);
    }
    const { boosters } = loaded;
    let model: ReturnType<typeof modelFromArtifact>;
    let servable: ServableModel;
    try {
      model = modelFromArtifact(sidecar, boosters, id);
      servable = servableFromArtifact(sidecar, model, loaded.others, id);
    } catch (err) {
      for (const b of boosters) b.dispose();
      throw err;
    }
    try {
      // Warm-up: the first prediction allocates XGBoost's buffers; do it before any request does.
      for (const m of model.members) m.booster.predict(new Float32Array(m.booster.numFeatures).fill(Number.NaN));
    } catch (err) {
      disposeModel(model);
      throw err;
    }
    return {
      materializationId: id,
      dataVersion: record.dataVersion,
      codeVersion: record.codeVersion,
      runId: record.runId,
      trainedAt: typeof sidecar.trainedAt === 'string' ? sidecar.trainedAt : new Date(record.endedAt).toISOString(),
      loadedAt: new Date().toISOString(),
      sidecar,
      model,
      servable,
      inputs: await store.inputsOf(id),
    };
  }

  #retire(model: ServedModel): void {
    if (this.#users.has(model)) this.#retired.add(model);
    else this.#dispose(model);
  }

  #dispose(model: ServedModel): void {
    this.#retired.delete(model);
    disposeModel(model.model);
    this.options.log.debug({ materializationId: model.materializationId }, 'freed a retired model');
  }
}
