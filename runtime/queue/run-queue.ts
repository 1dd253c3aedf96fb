// Every run goes through the store's run queue: the process that asks for a run (the CLI,
// the server for the UI and the API, the daemon) queues it, waits for its turn (the store's
// claim decides, under the global and per-pool limits, in queue order), runs it, and frees
// its slot. A run canceled while queued never starts. The plan is made again when a run
// waited, so it runs against the store as it is then, not as it was when queued. While rows it
// queued wait, the process heartbeats them (every QUEUE_HEARTBEAT_MS), so any claimer, on any
// host, can tell a waiting process from a dead one (runtime/store/run-liveness.ts). The store
// stamps those heartbeats and judges them by its own clock: this host's clock only dates the
// row for display (`enqueuedAt`), so hosts whose clocks disagree never cancel each other's runs.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunResult } from '../executor.ts';
import type { Instance } from '../instance.ts';
import { prepareRun, runPrepared, type MaterializeRequest, type PreparedRun } from '../materialize.ts';
import type { RunTrigger } from '../store/records.ts';
import { QUEUE_HEARTBEAT_MS, type QueueLimits } from '../store/run-queue-records.ts';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

export interface QueueHooks {
  /** Called when the run has to wait, and each time the reason changes. */
  readonly onWaiting?: (reason: string) => void;
  /** Aborting it while queued cancels the queued run; while running, cancels the run. */
  readonly signal?: AbortSignal;
}

/** A run's outcome through the queue: it ran, or it was canceled before it started (and why, when the store knows). */
export type QueuedOutcome =
  | { readonly kind: 'ran'; readonly result: RunResult }
  | { readonly kind: 'canceled'; readonly runId: string; readonly reason: string | null };

export class RunQueue {
  /** Who claims, recorded with each launched row. */
  readonly claimer: string;
  /** Rows this queue put in the store that have not started or been canceled: heartbeaten while they wait. */
  readonly #waiting = new Set<string>();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly instance: Instance<unknown>,
    private readonly limits: QueueLimits,
    private readonly options: {
      readonly claimer?: string;
      readonly pollMs?: number;
      readonly heartbeatMs?: number;
      /** This host's clock (epoch ms), for the time a row shows it was queued; tests skew it. */
      readonly clock?: () => number;
    } = {},
  ) {
    this.claimer = options.claimer ?? `${hostname()}:${process.pid}:${randomBytes(2).toString('hex')}`;
  }

  /** Queues a prepared run. Its pools are those of the assets its plan may run. */
  async enqueue(prepared: PreparedRun, req: MaterializeRequest & { readonly trigger: RunTrigger }): Promise<void> {
    const pools = new Set<string>();
    for (const s of prepared.plan.steps) {
      const pool = s.action === 'skip' ? undefined : this.instance.graph.get(s.asset).pool;
      if (pool !== undefined) pools.add(pool);
    }
    await this.instance.store.enqueueRun({
      runId: prepared.runId,
      selection: req.selection ?? '*',
      partitions: req.partitions ?? null,
      force: req.force ?? false,
      trigger: req.trigger,
      pools: [...pools].sort(),
      enqueuedAt: (this.options.clock ?? Date.now)(),
    });
    this.#wait(prepared.runId);
  }

  #wait(runId: string): void {
    this.#waiting.add(runId);
    if (this.#heartbeat !== undefined) return;
    this.#heartbeat = setInterval(() => {
      // A missed heartbeat is retried at the next one; a row stays alive for several of them.
      this.instance.store.heartbeatQueuedRuns([...this.#waiting]).catch(() => undefined);
    }, this.options.heartbeatMs ?? QUEUE_HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  #done(runId: string): void {
    this.#waiting.delete(runId);
    if (this.#waiting.size === 0) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }

  /** Waits until the store launches `runId` for this process: 'launched', or 'canceled' (here or by anyone). */
  async waitForTurn(runId: string, hooks: QueueHooks = {}): Promise<'launched' | 'canceled' | 'unknown'> {
    try {
      return await this.#waitForTurn(runId, hooks);
    } finally {
      this.#done(runId);
    }
  }

  async #waitForTurn(runId: string, hooks: QueueHooks): Promise<'launched' | 'canceled' | 'unknown'> {
    let last: string | undefined;
    for (;;) {
      if (hooks.signal?.aborted) {
        const c = await this.instance.store.cancelQueuedRun(runId);
        if (c.canceled || c.state === 'canceled') return 'canceled';
      }
      const r = await this.instance.store.claimQueuedRun(this.claimer, this.limits, runId);
      if (r.claimed) return 'launched';
      const state = (await this.instance.store.queuedRun(runId))?.state;
      if (state === undefined) return 'unknown';
      if (state === 'canceled') return 'canceled';
      if (state === 'launched') return 'launched';
      if (r.waiting && r.waiting !== last) hooks.onWaiting?.((last = r.waiting));
      await sleep(this.options.pollMs ?? 250, undefined, { signal: hooks.signal }).catch(() => undefined);
    }
  }

  /** Queues, waits, runs and frees the slot: the one path every trigger takes. */
  async run(prepared: PreparedRun, req: MaterializeRequest & { readonly trigger: RunTrigger }, hooks: QueueHooks = {}): Promise<QueuedOutcome> {
    await this.enqueue(prepared, req);
    return this.runQueued(prepared, req, hooks);
  }

  /** Waits for an already queued run's turn, runs it and frees the slot. */
  async runQueued(prepared: PreparedRun, req: MaterializeRequest & { readonly trigger: RunTrigger }, hooks: QueueHooks = {}): Promise<QueuedOutcome> {
    let waited = false;
    const turn = await this.waitForTurn(prepared.runId, {
      ...hooks,
      onWaiting: (reason) => {
        waited = true;
        hooks.onWaiting?.(reason);
      },
    });
    if (turn !== 'launched')
      return {
        kind: 'canceled',
        runId: prepared.runId,
        reason: (await this.instance.store.queuedRun(prepared.runId).catch(() => undefined))?.cancelReason ?? null,
      };
    try {
      const plan = waited ? await prepareRun(this.instance, { ...req, runId: prepared.runId, now: new Date() }) : prepared;
      return { kind: 'ran', result: await runPrepared(this.instance, plan, { ...req, signal: hooks.signal }) };
    } finally {
      // Best effort: a run's own outcome (a full disk, say) must not be replaced by this write's
      // failure, and a row left `launched` holds no slot once its run is recorded as ended.
      await this.instance.store.finishQueuedRun(prepared.runId).catch(() => undefined);
    }
  }
}
