// "What happened in this run": the run's events, counts and failures, and the first resource
// problem that stopped it. Events are written in batches (at most every 200 ms, and with each
// materialization's own transaction) rather than one write each: a validated partition emits
// ten events, and a 2,000-day backfill would otherwise spend its time committing log lines.
// Listeners (the CLI's renderer, the UI's stream) hear every event at once.
import { errorMessage } from '../errors.ts';
import { eventLevel, eventMessage, type RunCounts, type RunEvent, type RunEventListener } from '../events.ts';
import { describeResourceProblem, resourceProblem } from '../resources.ts';
import type { LineageStore, NewEvent } from '../store/lineage-store-api.ts';

export interface StepFailure {
  readonly asset: string;
  readonly partition: string;
  readonly error: string;
}

export class RunRecorder {
  readonly counts: RunCounts = { materialized: 0, unchanged: 0, skipped: 0, failed: 0, blocked: 0 };
  readonly failures: StepFailure[] = [];
  /** Why the run failed as a whole (a resource problem, an internal error), when it did. */
  runError: string | null = null;
  /** A resource problem (full disk, read-only store) stops the run: set once, with the message it ends with. */
  fatal: string | undefined;
  #pending: NewEvent[] = [];
  // One write of the log at a time, in order: a commit waits for the one in flight so the
  // events of a run keep the order they happened in.
  #flushing: Promise<void> = Promise.resolve();
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly store: LineageStore,
    private readonly dataDir: string,
    private readonly onEvent?: RunEventListener,
  ) {
    this.#timer = setInterval(() => void this.flush(), 200);
    this.#timer.unref();
  }

  /** Hands the event to the listener, and (unless `persist` is false: it is committed with a materialization) queues it for the store. */
  emit(event: RunEvent, persist = true): void {
    if (persist) this.#pending.push(toStoredEvent(event));
    this.onEvent?.(event);
  }

  /** The queued events, for a commit to write in its own transaction (after the write in flight). */
  async takePending(): Promise<NewEvent[]> {
    await this.#flushing;
    const out = this.#pending;
    this.#pending = [];
    return out;
  }

  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.length === 0) return;
      const batch = this.#pending;
      this.#pending = [];
      try {
        await this.store.appendEvents(batch);
      } catch (err) {
        // The log could not be written: the run cannot be recorded faithfully, so it stops.
        this.stopRun(
          this.describeProblem(err, `the run's events to ${this.store.location}`) ??
            `Writing the run's events to ${this.store.location} failed: ${errorMessage(err)}. The run stopped.`,
        );
      }
    });
    return this.#flushing;
  }

  /** Stops the periodic writes and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  /** A full disk or a read-only store, in words naming where; undefined for any other error. */
  describeProblem(err: unknown, writing?: string): string | undefined {
    const p = resourceProblem(err);
    return p && describeResourceProblem(p, { dataDir: this.dataDir, storePath: this.store.location, writing });
  }

  /** Stops the run at the first resource problem; true only for that first one (later ones are its echoes). */
  stopRun(message: string): boolean {
    if (this.fatal !== undefined) return false;
    this.fatal = message;
    this.runError = message;
    return true;
  }
}

export function toStoredEvent(e: RunEvent): NewEvent {
  const { runId, ts, type, ...rest } = e;
  const asset = 'asset' in e ? e.asset : undefined;
  const partition = 'partition' in e ? e.partition : undefined;
  return { runId, ts, type, level: eventLevel(e), asset, partition, message: eventMessage(e), data: rest };
}
