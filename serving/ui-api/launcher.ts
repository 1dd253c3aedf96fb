// Starts materializations in the server process for the UI's "Materialize"
// actions: plans at once (so a bad selection is a 400 and the caller gets the
// run id immediately), runs in the background, and wakes the live event
// streams whenever the run emits. Runs are canceled when the server closes.
import { EventEmitter } from 'node:events';
import {
  prepareRun,
  resolveSelection,
  runPrepared,
  RuntimeError,
  type Instance,
  type Plan,
  type MaterializeRequest,
  type PreparedRun,
  type RunEvent,
} from '../../runtime/index.ts';

export type MaterializeMode = 'with-upstream' | 'stale-only' | 'force';

export interface MaterializeCommand {
  /** A selection string (`key`, `group:name`, comma lists). */
  readonly selection: string;
  /**
   * - `with-upstream`: the selection and everything upstream of it; missing and stale partitions run, fresh ones are skipped.
   * - `stale-only`: only the selected assets' missing and stale partitions.
   * - `force`: every partition of the selected assets, fresh or not.
   */
  readonly mode: MaterializeMode;
  /** Optional partition argument, as the CLI's --partition (`key`, `from...to`, comma list). */
  readonly partitions?: string;
}

export interface StartedRun {
  readonly runId: string;
  /** The selection actually run (with upstream expanded). */
  readonly selection: string;
  readonly force: boolean;
  readonly planned: Plan['counts'];
}

export class LauncherBusyError extends Error {}

/** The selection string and force flag a command runs with. */
export function commandToRequest(instance: Instance<unknown>, command: MaterializeCommand): { selection: string; force: boolean } {
  const assets = resolveSelection(instance.graph, command.selection);
  if (assets.length === 0) throw new RuntimeError('invalid-selection', `Selection ${JSON.stringify(command.selection)} selects no asset.`);
  switch (command.mode) {
    case 'with-upstream':
      return { selection: assets.map((a) => `+${a}`).join(','), force: false };
    case 'stale-only':
      return { selection: assets.join(','), force: false };
    case 'force':
      return { selection: assets.join(','), force: true };
  }
}

export class RunLauncher {
  private readonly active = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  private readonly wakeups = new EventEmitter();

  constructor(
    private readonly instance: Instance<unknown>,
    private readonly options: { maxConcurrentRuns?: number; onRunError?: (runId: string, error: unknown) => void } = {},
  ) {
    this.wakeups.setMaxListeners(0);
  }

  /** Runs being planned, not yet in `active`. */
  private starting = 0;

  get activeRunIds(): string[] {
    return [...this.active.keys()];
  }

  /** Plans and starts a run; resolves once the run is recorded in the store, so its id can be looked up at once. */
  async start(command: MaterializeCommand): Promise<StartedRun> {
    const max = this.options.maxConcurrentRuns ?? 2;
    if (this.active.size + this.starting >= max) {
      throw new LauncherBusyError(`${this.active.size + this.starting} runs started from the UI are still in progress (${this.activeRunIds.join(', ')}); wait for one to finish.`);
    }
    // The slot is taken before the first await: two requests at once cannot both pass the check.
    this.starting++;
    let prepared: PreparedRun & { readonly selection: string; readonly force: boolean; readonly request: MaterializeRequest };
    let recorded: Promise<void>;
    const controller = new AbortController();
    try {
      const { selection, force } = commandToRequest(this.instance, command);
      let onRecorded!: () => void;
      recorded = new Promise<void>((resolve) => (onRecorded = resolve));
      const request = {
        selection,
        force,
        trigger: 'ui' as const,
        signal: controller.signal,
        ...(command.partitions ? { partitions: command.partitions } : {}),
        onEvent: (e: RunEvent) => this.wakeups.emit(e.runId, e),
        onRecorded,
      };
      prepared = { ...(await prepareRun(this.instance, request)), selection, force, request };
    } finally {
      this.starting--;
    }
    const { runId } = prepared;
    const done = runPrepared(this.instance, prepared, prepared.request)
      .catch((err: unknown) => this.options.onRunError?.(runId, err))
      .finally(() => {
        this.active.delete(runId);
        this.wakeups.emit(runId, undefined);
      });
    this.active.set(runId, { controller, done });
    // A run that could not even be recorded ends at once: the id is then unknown to the store, as before.
    await Promise.race([recorded, done]);
    return { runId, selection: prepared.selection, force: prepared.force, planned: prepared.plan.counts };
  }

  /** Cancels a run started here; false when no such run is in progress in this process. */
  cancel(runId: string): boolean {
    const run = this.active.get(runId);
    if (!run) return false;
    run.controller.abort();
    return true;
  }

  /** Calls `listener` whenever run `runId` emits (in this process); returns the unsubscribe function. */
  subscribe(runId: string, listener: () => void): () => void {
    this.wakeups.on(runId, listener);
    return () => this.wakeups.off(runId, listener);
  }

  /** Cancels every run started here and waits for them to stop. */
  async close(): Promise<void> {
    const runs = [...this.active.values()];
    for (const r of runs) r.controller.abort();
    await Promise.allSettled(runs.map((r) => r.done));
  }
}
