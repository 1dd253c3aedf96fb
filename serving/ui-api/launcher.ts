// Starts materializations in the server process for the UI's "Materialize"
// actions: plans at once (so a bad selection is a 400 and the caller gets the
// run id immediately), queues the run in the store's run queue (behind the runs
// the CLI, the API and the daemon asked for first, under the same limits), runs
// it in the background when its turn comes, and wakes the live event streams
// whenever the run emits. Runs are canceled when the server closes.
import { EventEmitter } from 'node:events';
import { prepareRun, resolveSelection, RuntimeError, type Instance, type Plan, type RunEvent } from '../../runtime/index.ts';
import { RunQueue } from '../../runtime/queue/run-queue.ts';
import { RUN_QUEUE_DEFAULTS, type RunQueueSettings } from '../../runtime/settings.ts';

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
  /** `started`: running now; `queued`: waiting for its turn in the run queue (`waiting` says why). */
  readonly state: 'started' | 'queued';
  readonly waiting?: string;
}

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
  /** Why each run of this process that is still queued waits. */
  private readonly waiting = new Map<string, string>();
  private readonly wakeups = new EventEmitter();
  private readonly queue: RunQueue;

  constructor(
    private readonly instance: Instance<unknown>,
    private readonly options: { queue?: RunQueueSettings; onRunError?: (runId: string, error: unknown) => void } = {},
  ) {
    this.wakeups.setMaxListeners(0);
    this.queue = new RunQueue(instance, options.queue ?? RUN_QUEUE_DEFAULTS);
  }

  get activeRunIds(): string[] {
    return [...this.active.keys()];
  }

  /** Why a run of this process is still queued, or undefined. */
  waitingReason(runId: string): string | undefined {
    return this.waiting.get(runId);
  }

  /**
   * Plans and queues a run; resolves once it is either recorded in the store (it started, so
   * its id can be looked up at once) or known to wait for its turn.
   */
  async start(command: MaterializeCommand): Promise<StartedRun> {
    const controller = new AbortController();
    const { selection, force } = commandToRequest(this.instance, command);
    let onRecorded!: () => void;
    const recorded = new Promise<void>((resolve) => (onRecorded = resolve));
    let onQueued!: (reason: string) => void;
    const queued = new Promise<string>((resolve) => (onQueued = resolve));
    const request = {
      selection,
      force,
      trigger: 'ui' as const,
      ...(command.partitions ? { partitions: command.partitions } : {}),
      onEvent: (e: RunEvent) => this.wakeups.emit(e.runId, e),
      onRecorded: () => {
        this.waiting.delete(runId);
        onRecorded();
      },
    };
    const prepared = await prepareRun(this.instance, request);
    const { runId } = prepared;
    await this.queue.enqueue(prepared, request);
    const done = this.queue
      .runQueued(prepared, request, {
        signal: controller.signal,
        onWaiting: (reason) => {
          this.waiting.set(runId, reason);
          onQueued(reason);
          this.wakeups.emit(runId, undefined);
        },
      })
      .catch((err: unknown) => this.options.onRunError?.(runId, err))
      .finally(() => {
        this.active.delete(runId);
        this.waiting.delete(runId);
        this.wakeups.emit(runId, undefined);
      });
    this.active.set(runId, { controller, done });
    // A run that could not even be recorded ends at once: the id is then unknown to the store, as before.
    const reason = await Promise.race([recorded.then(() => undefined), queued, done.then(() => undefined)]);
    return { runId, selection, force, planned: prepared.plan.counts, ...(reason === undefined ? { state: 'started' } : { state: 'queued', waiting: reason }) };
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
