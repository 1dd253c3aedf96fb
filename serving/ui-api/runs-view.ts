// GET /api/runs, /api/runs/:id and its events: the run list, one run with its
// progress, what it materialized and its event log. Progress is folded from the
// same typed events the CLI renders, so the UI and the terminal agree.
import type { EventRecord, Instance, RunRecord, RunStatus } from '../../runtime/index.ts';

export interface RunSummary {
  readonly id: string;
  readonly selection: string;
  readonly partitions: string | null;
  readonly status: RunStatus;
  readonly trigger: string;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly durationMs: number | null;
  readonly error: string | null;
  readonly summary: RunRecord['summary'];
}

export interface RunProgress {
  /** Steps planned to run or to run if upstream changes. */
  readonly planned: number;
  /** Steps finished: materialized, failed, blocked or skipped. */
  readonly done: number;
  readonly running: number;
  readonly materialized: number;
  readonly failed: number;
  readonly blocked: number;
  readonly skipped: number;
}

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

/** Folds a run's events, as they come, into its progress. */
export class ProgressFold {
  private planned = 0;
  private readonly inFlight = new Set<string>();
  private readonly counts = { materialized: 0, failed: 0, blocked: 0, skipped: 0 };

  add(events: readonly EventRecord[]): this {
    for (const e of events) {
      const step = `${e.asset}\u0000${e.partition}`;
      switch (e.type) {
        case 'run_started': {
          const plan = e.data?.planned;
          if (plan && typeof plan === 'object' && !Array.isArray(plan)) this.planned = Number(plan.run ?? 0) + Number(plan.conditional ?? 0);
          break;
        }
        case 'step_started':
          this.inFlight.add(step);
          break;
        case 'step_materialized':
        case 'step_failed':
        case 'step_blocked':
        case 'step_skipped':
          this.inFlight.delete(step);
          this.counts[e.type === 'step_materialized' ? 'materialized' : e.type === 'step_failed' ? 'failed' : e.type === 'step_blocked' ? 'blocked' : 'skipped']++;
          break;
      }
    }
    return this;
  }

  get value(): RunProgress {
    const c = this.counts;
    return { planned: this.planned, done: c.materialized + c.failed + c.blocked + c.skipped, running: this.inFlight.size, ...c };
  }
}

export const runProgress = (events: readonly EventRecord[]): RunProgress => new ProgressFold().add(events).value;

export async function listRunsView(instance: Instance<unknown>, options: { limit?: number; offset?: number; status?: RunStatus }): Promise<RunSummary[]> {
  return (await instance.store.listRuns(options)).map(runSummary);
}

/** One run with its first `eventLimit` events (the page follows the rest with afterId); `progress` when already folded. */
export async function runView(instance: Instance<unknown>, id: string, options: { eventLimit?: number; progress?: RunProgress } = {}): Promise<RunView | undefined> {
  const run = await instance.store.getRun(id);
  if (!run) return undefined;
  const events = await instance.store.events(id, { limit: options.eventLimit ?? 5000 });
  return {
    run: runSummary(run),
    progress: options.progress ?? (events.length < (options.eventLimit ?? 5000) ? runProgress(events) : runProgress(await instance.store.events(id, { limit: Number.MAX_SAFE_INTEGER }))),
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
