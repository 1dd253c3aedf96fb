// GET /api/runs, /api/runs/:id and its events: the run list, one run with its
// progress, what it materialized and its event log. Progress is folded by the
// runtime's foldRun, as the CLI's live view folds it, so the UI and the terminal agree.
import {
  foldRun,
  pickCounts,
  runEventFromRecord,
  type EventRecord,
  type Instance,
  type RunRecord,
  type RunStatus,
  type RunTrigger,
  type StepCounts,
} from '../../runtime/index.ts';

export interface RunSummary {
  readonly id: string;
  readonly selection: string;
  readonly partitions: string | null;
  readonly status: RunStatus;
  readonly trigger: RunTrigger;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly durationMs: number | null;
  readonly error: string | null;
  readonly summary: RunRecord['summary'];
}

/** Steps planned, done, running and by outcome: the run's fold (runtime/run-fold.ts) less its per-asset detail. */
export type RunProgress = StepCounts;

export interface RunView {
  readonly run: RunSummary;
  readonly progress: RunProgress;
  readonly materializations: readonly {
    readonly id: number;
    readonly asset: string;
    readonly partition: string;
    readonly status: string;
    readonly dataVersion: string;
    readonly durationMs: number;
  }[];
  readonly events: readonly EventRecord[];
  /** Pass as afterId to read the events that follow. */
  readonly lastEventId: number;
}

export const runSummary = (r: RunRecord): RunSummary => ({
  id: r.id,
  selection: r.selection,
  partitions: r.partitions,
  status: r.status,
  trigger: r.trigger,
  startedAt: r.startedAt,
  endedAt: r.endedAt,
  durationMs: r.endedAt === null ? null : r.endedAt - r.startedAt,
  error: r.error,
  summary: r.summary,
});

/** A run's progress from its stored events, folded as the CLI's live view folds them. */
export const runProgress = (events: readonly EventRecord[]): RunProgress => pickCounts(foldRun(events.map(runEventFromRecord)));

export async function listRunsView(instance: Instance<unknown>, options: { limit?: number; offset?: number; status?: RunStatus }): Promise<RunSummary[]> {
  return (await instance.store.listRuns(options)).map(runSummary);
}

/** One run with its first `eventLimit` events (the page follows the rest with afterId); `progress` when already folded. */
export async function runView(
  instance: Instance<unknown>,
  id: string,
  options: { eventLimit?: number; progress?: RunProgress } = {},
): Promise<RunView | undefined> {
  const run = await instance.store.getRun(id);
  if (!run) return undefined;
  const events = await instance.store.events(id, { limit: options.eventLimit ?? 5000 });
  return {
    run: runSummary(run),
    progress:
      options.progress ??
      (events.length < (options.eventLimit ?? 5000) ? runProgress(events) : runProgress(await instance.store.events(id, { limit: Number.MAX_SAFE_INTEGER }))),
    materializations: (await instance.store.materializationsOfRun(id)).map((m) => ({
      id: m.id,
      asset: m.asset,
      partition: m.partition,
      status: m.status,
      dataVersion: m.dataVersion,
      durationMs: m.endedAt - m.startedAt,
    })),
    events,
    lastEventId: events.length > 0 ? events[events.length - 1]!.id : 0,
  };
}
