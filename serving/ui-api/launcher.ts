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

  get activeRunIds(): string[] {
    return [...this.active.keys()];
  }

  start(command: MaterializeCommand): StartedRun {
    const max = this.options.maxConcurrentRuns ?? 2;
    if (this.active.size >= max) {
      throw new LauncherBusyError(`${this.active.size} runs started from the UI are still in progress (${this.activeRunIds.join(', ')}); wait for one to finish.`);
    }
    const { selection, force } = commandToRequest(this.instance, command);
    const controller = new AbortController();
    const request = {
      selection,
      force,
      trigger: 'ui',
      signal: controller.signal,
      ...(command.partitions ? { partitions: command.partitions } : {}),
      onEvent: (e: RunEvent) => this.wakeups.emit(e.runId, e),
    };
    const prepared = prepareRun(this.instance, request);
    // runPrepared records the run synchronously before its first await, so the id is valid on return.
    const done = runPrepared(this.instance, prepared, request)
      .catch((err: unknown) => this.options.onRunError?.(prepared.runId, err))
      .finally(() => {
        this.active.delete(prepared.runId);
        this.wakeups.emit(prepared.runId, undefined);
      });
    this.active.set(prepared.runId, { controller, done });
    return { runId: prepared.runId, selection, force, planned: prepared.plan.counts };
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
