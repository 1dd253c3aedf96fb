// "What ran and what it consumed", as one asynchronous interface with two
// implementations: SQLite (embedded, the default; sqlite-store.ts) and PostgreSQL
// (many processes on many machines; postgres/postgres-store.ts). Nothing outside an
// implementation runs SQL on its database: every question the runtime, prune, the
// server and the UI ask is a method here. test/store/contract.ts holds the behaviour
// both must show, written once.
import type { JsonValue, Metadata } from '../definitions.ts';
import type { RunEventType } from '../events.ts';
import type { AssetKey, PartitionKey } from '../keys.ts';
import type { LogLevel } from '../logger.ts';
import type { DynamicPartitionKeys } from '../partitions.ts';
import type { DataVersion } from '../versions.ts';
import type {
  CheckResultRecord,
  CorruptDetector,
  CorruptMark,
  CorruptReason,
  CurrentRecord,
  CurrentSnapshot,
  EventRecord,
  InputRecord,
  MaterializationRecord,
  RunRecord,
  RunStatus,
  RunTrigger,
} from './records.ts';
import type { AutomationCursor, ClaimResult, CursorUpdate, NewTick, TickQuery, TickRecord } from './tick-records.ts';
import type { CancelQueuedResult, ClaimQueuedResult, NewQueuedRun, QueueLimits, QueueState, QueuedRunRecord } from './run-queue-records.ts';
import type { AssetRecords } from './asset-records.ts';

export interface NewRun {
  readonly id: string;
  readonly selection: string;
  readonly partitions: string | null;
  readonly trigger: RunTrigger;
  readonly now: number;
}

export interface NewEvent {
  readonly runId: string;
  readonly ts: number;
  readonly level: LogLevel;
  readonly type: RunEventType;
  readonly asset?: string | undefined;
  readonly partition?: string | undefined;
  readonly message: string;
  readonly data?: Record<string, unknown> | undefined;
}

export interface NewCheckResult {
  readonly name: string;
  readonly blocking: boolean;
  readonly passed: boolean;
  readonly message: string;
  readonly metadata: Metadata;
}

/**
 * A materialization to record: the stored record less its id. Status 'published' moves the
 * current pointer; 'blocked' only records the attempt.
 */
export interface NewMaterialization extends Omit<MaterializationRecord, 'id'> {
  readonly inputs: readonly InputRecord[];
  readonly checks: readonly NewCheckResult[];
  /** Written in the same transaction, so the event log and the store always agree; tagged with the new id. */
  readonly events: readonly NewEvent[];
  /** Other pending events of the run, written first in the same transaction (saves a commit). */
  readonly logEvents?: readonly NewEvent[];
  /**
   * Fences the commit (PostgreSQL, used by workers): it is refused with a 'lease-lost' error unless
   * this holder still holds the partition's lease, checked under a row lock in the commit's own
   * transaction. A worker whose lease expired (paused, cut off) and was taken over cannot publish
   * after the worker that took it. SQLite has no worker mode and ignores it.
   */
  readonly leaseHolder?: string;
}

/** A bad stored file to record against the current version of its partition. */
export interface NewCorruptMark {
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
  /** The materialization whose file is bad; the mark is dropped if it is no longer current. */
  readonly materializationId: number;
  readonly reason: CorruptReason;
  readonly detail: string;
  readonly expected: DataVersion;
  readonly found: DataVersion | null;
  readonly detectedBy: CorruptDetector;
  readonly now: number;
}

export type LeaseResult = { readonly acquired: true } | { readonly acquired: false; readonly holder: string; readonly expiresAt: number };

export interface EventQuery {
  readonly afterId?: number;
  readonly limit?: number;
  /** Only these types (filtered in the database: a backfill holds tens of thousands of log lines). */
  readonly types?: readonly RunEventType[];
}

export interface RunQuery {
  readonly limit?: number;
  readonly offset?: number;
  readonly status?: RunStatus;
}

export interface HistoryQuery {
  readonly partition?: PartitionKey;
  readonly limit?: number;
  readonly beforeId?: number;
}

/** A file of a pruned version: removable once no remaining row points at it (see prune.ts). */
export interface PrunedFile {
  readonly location: string;
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
}

export interface PruneAutomationResult {
  readonly ticks: number;
  readonly claims: number;
  readonly queueRows: number;
}

export interface PruneRecordsResult {
  /** Superseded versions older than the cutoff that no current version's lineage reaches. */
  readonly materializations: number;
  /** Events of runs that ended before the cutoff. */
  readonly events: number;
  /** Their files that no remaining row points at (on a dry run: all of their files). */
  readonly files: readonly PrunedFile[];
}

/**
 * What a subscriber learns. One `materialization` change per committed materialization
 * (published or blocked); `activity` when runs, events, corrupt marks or dynamic partitions
 * changed (coalesced: re-read what you show).
 */
export type StoreChange =
  | {
      readonly kind: 'materialization';
      readonly id: number;
      readonly asset: AssetKey;
      readonly partition: PartitionKey;
      readonly runId: string;
      readonly status: MaterializationRecord['status'];
    }
  | { readonly kind: 'activity' };

export type StoreChangeListener = (change: StoreChange) => void;

/** Which implementation a store is, for messages and for the few places that must say so. */
export type LineageStoreKind = 'sqlite' | 'postgres';

export interface LineageStore extends AssetRecords {
  readonly kind: LineageStoreKind;
  /** Where it is, for messages: a file path, or a PostgreSQL URL without its password. */
  readonly location: string;
  close(): Promise<void>;

  // ---- runs ----
  createRun(run: NewRun): Promise<void>;
  /** Ends a running run (a run already ended is left as it is) and releases its leases, atomically. */
  finishRun(runId: string, status: Exclude<RunStatus, 'running'>, summary: Record<string, JsonValue>, error: string | null, now: number): Promise<void>;
  /** Keeps the run's leases and heartbeat alive; call more often than the lease TTL. */
  heartbeat(runId: string, now: number, leaseTtlMs: number): Promise<void>;
  /** Closes as failed the runs whose process stopped heart-beating or died on this host; returns their ids. */
  closeAbandonedRuns(now: number, staleAfterMs: number): Promise<string[]>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Newest first. */
  listRuns(query?: RunQuery): Promise<RunRecord[]>;

  // ---- events ----
  appendEvents(events: readonly NewEvent[]): Promise<void>;
  /** A run's events in the order recorded. */
  events(runId: string, query?: EventQuery): Promise<EventRecord[]>;

  // ---- leases: one run at a time materializes an asset partition ----
  /** Takes the lease unless another run holds it and it has not expired. */
  tryAcquireLease(asset: AssetKey, partition: PartitionKey, runId: string, now: number, ttlMs: number): Promise<LeaseResult>;
  releaseLease(asset: AssetKey, partition: PartitionKey, runId: string): Promise<void>;

  // ---- materializations ----
  /** Records one finished materialization (or blocked attempt) with its inputs, checks and events, in one transaction. */
  commitMaterialization(m: NewMaterialization): Promise<number>;
  materialization(id: number): Promise<MaterializationRecord | undefined>;
  inputsOf(materializationId: number): Promise<InputRecord[]>;
  /** Materializations that consumed `materializationId`. */
  consumersOf(materializationId: number): Promise<MaterializationRecord[]>;
  /** Newest first. */
  history(asset: AssetKey, query?: HistoryQuery): Promise<MaterializationRecord[]>;
  materializationsOfRun(runId: string): Promise<MaterializationRecord[]>;
  checkResults(materializationId: number): Promise<CheckResultRecord[]>;

  // ---- current versions ----
  current(asset: AssetKey, partition: PartitionKey): Promise<CurrentRecord | undefined>;
  /** The current version of every partition of `assets` (all assets when omitted), with inputs and corrupt marks. */
  snapshot(assets?: readonly AssetKey[]): Promise<CurrentSnapshot>;

  // ---- corrupt marks ----
  /** Marks the stored file of a current version bad; false (nothing recorded) when it is no longer current. */
  markCorrupt(mark: NewCorruptMark): Promise<boolean>;
  /** Drops the mark of one materialization (verify found its file intact after all). */
  clearCorrupt(asset: AssetKey, partition: PartitionKey, materializationId: number): Promise<void>;
  /** Every mark that applies to a current version, optionally of some assets only. */
  corruptMarks(assets?: readonly AssetKey[]): Promise<{ asset: AssetKey; partition: PartitionKey; mark: CorruptMark }[]>;

  // ---- dynamic partitions ----
  /** Adds keys to the definition `name`; returns those that were new. */
  addDynamicPartitions(name: string, keys: readonly PartitionKey[], now?: number): Promise<PartitionKey[]>;
  /** Removes keys; returns those that were there. Their materializations stay in the history. */
  removeDynamicPartitions(name: string, keys: readonly PartitionKey[]): Promise<PartitionKey[]>;
  /** Every definition's keys, in the order added. */
  dynamicPartitionKeys(): Promise<DynamicPartitionKeys>;

  // ---- change detection: compare tokens for equality only ----
  /** Changes whenever a materialization is recorded (published or blocked). */
  changeToken(): Promise<string>;
  /** Changes whenever a corrupt mark is added or removed. */
  corruptionToken(): Promise<string>;
  /** Changes whenever anything is recorded: a materialization, an event, a run started or ended, a dynamic partition. */
  activityToken(): Promise<string>;
  /**
   * Calls `listener` for every change committed by any process (see StoreChange); resolves once
   * listening, to the function that stops it. PostgreSQL: LISTEN/NOTIFY; SQLite: polls.
   */
  subscribe(listener: StoreChangeListener): Promise<() => Promise<void>>;

  // ---- prune ----
  /**
   * Deletes (unless `dryRun`) the materializations that ended before `cutoff` and that no current
   * version's lineage reaches, with their inputs and checks, and the events of runs that ended
   * before it, in one transaction.
   */
  pruneRecords(cutoff: number, options: { readonly dryRun: boolean }): Promise<PruneRecordsResult>;
  /** Whether any materialization points at this stored file. */
  isRecorded(location: string): Promise<boolean>;

  // ---- automation: ticks, cursors, run request claims ----
  /**
   * Claims a run request's dedupe key for `runId`, once and for all: the first caller (any
   * process) gets `claimed: true`; every later one learns who claimed it and for which run.
   */
  claimRunRequest(dedupeKey: string, daemonId: string, runId: string, now: number): Promise<ClaimResult>;
  /** Records a tick's rows and moves the cursors it advanced, in one transaction. */
  recordTicks(ticks: readonly NewTick[], cursors: readonly CursorUpdate[]): Promise<void>;
  /** Newest first (default 50). */
  listTicks(query?: TickQuery): Promise<TickRecord[]>;
  /** Every schedule's, sensor's and on_cron policy's cursor, by name. */
  automationCursors(): Promise<Map<string, AutomationCursor>>;

  /**
   * Deletes (unless `dryRun`) ticks that ended before `cutoff`, run request claims made before it,
   * and queue rows of runs that finished or were canceled before it. Cursors stay whatever their
   * age (they make evaluations resumable), as do queued and launched rows.
   */
  pruneAutomation(cutoff: number, options: { readonly dryRun: boolean }): Promise<PruneAutomationResult>;

  // ---- asset records (asset-records.ts): addAssetRecords, assetRecords, countAssetRecords ----
  /** Deletes (unless `dryRun`) the asset records of every namespace recorded before `cutoff`; returns how many. */
  pruneAssetRecords(cutoff: number, options: { readonly dryRun: boolean }): Promise<number>;

  // ---- run queue ----
  // A queued row's liveness is judged by the store's clock (SQLite's and PostgreSQL's own
  // now), which stamps its heartbeat and decides staleness, so two hosts whose clocks differ
  // cannot take each other's waiting runs for dead. The `enqueuedAt` a caller passes is shown, never judged.
  /** Queues a run (its row belongs to this process, which starts it when admitted); its heartbeat starts at the store's now. */
  enqueueRun(run: NewQueuedRun): Promise<void>;
  /** The queue's latest rows (default: queued and launched, at most 100), oldest first. */
  runQueue(query?: { readonly states?: readonly QueueState[]; readonly limit?: number }): Promise<QueuedRunRecord[]>;
  queuedRun(runId: string): Promise<QueuedRunRecord | undefined>;
  /**
   * In one transaction: decides which queued run starts next under `limits` (runtime/queue/admission.ts)
   * and moves it to `launched` for `claimer`, at the store's now. With `only`, claims that run alone,
   * and only when its turn has come. Two claimers never get the same run. On the way it cancels
   * rows whose process is gone (run-liveness.ts deadQueueOwner, judged at the store's now).
   */
  claimQueuedRun(claimer: string, limits: QueueLimits, only?: string): Promise<ClaimQueuedResult>;
  /** Its run ended: it no longer counts against the limits. */
  finishQueuedRun(runId: string): Promise<void>;
  /** Cancels a queued run (never started), recording why (default CANCELED_ON_REQUEST); a launched run is canceled through its process instead. */
  cancelQueuedRun(runId: string, reason?: string): Promise<CancelQueuedResult>;
  /** The process that queued these runs is alive and they still wait: stamps the store's now (rows no longer queued are left alone). */
  heartbeatQueuedRuns(runIds: readonly string[]): Promise<void>;

  // ---- integrity ----
  /**
   * The store's own consistency: the database's integrity check (SQLite), every current pointer
   * naming a published materialization of its partition with a file, no dangling rows.
   * Empty when all is well; otherwise one sentence per problem.
   */
  checkConsistency(): Promise<string[]>;
}
