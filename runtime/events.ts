// Everything that can happen during a run, as one typed union. The executor
// only emits these; the CLI renderers, the store and the server's live views
// consume them. A new kind of output is a new consumer, not a new `if` in the executor.
import type { Metadata } from './definitions.ts';
import { describePartition, UNPARTITIONED, type AssetKey, type PartitionKey } from './keys.ts';
import type { LogLevel } from './logger.ts';
import type { RunStatus, RunTrigger } from './store/records.ts';
import type { DataVersion } from './versions.ts';

interface Base {
  readonly runId: string;
  readonly ts: number;
}

interface StepBase extends Base {
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
}

export type RunEvent =
  | (Base & {
      readonly type: 'run_started';
      readonly selection: string;
      readonly partitions: string | null;
      readonly trigger: RunTrigger;
      readonly planned: { readonly run: number; readonly conditional: number; readonly skip: number };
      /** Per asset, how many of its partitions are planned (run or conditional). */
      readonly assets: readonly { readonly asset: AssetKey; readonly steps: number }[];
    })
  | (StepBase & { readonly type: 'step_waiting'; readonly holder: string })
  | (StepBase & {
      readonly type: 'step_started';
      readonly attempt: number;
      /** The `materialize worker` process that ran it (worker-pool runs only). */
      readonly worker?: { readonly host: string; readonly pid: number };
    })
  | (Base & {
      readonly type: 'log';
      readonly asset?: AssetKey;
      readonly partition?: PartitionKey;
      readonly level: LogLevel;
      readonly message: string;
      readonly data?: Record<string, unknown>;
    })
  | (StepBase & { readonly type: 'step_retrying'; readonly attempt: number; readonly error: string; readonly delayMs: number })
  | (StepBase & { readonly type: 'check_evaluated'; readonly check: string; readonly blocking: boolean; readonly passed: boolean; readonly message: string })
  | (StepBase & {
      readonly type: 'step_materialized';
      readonly dataVersion: DataVersion;
      /** The new version holds the same data as the one it replaces. */
      readonly unchanged: boolean;
      /** The version it replaces was marked corrupt: its stored file has been rewritten. */
      readonly repaired?: boolean;
      readonly durationMs: number;
      readonly metadata: Metadata;
    })
  | (StepBase & { readonly type: 'step_blocked'; readonly failedChecks: readonly string[]; readonly message: string })
  | (StepBase & { readonly type: 'step_skipped'; readonly reason: string })
  | (StepBase & { readonly type: 'step_failed'; readonly error: string; readonly durationMs: number })
  | (Base & {
      readonly type: 'run_finished';
      readonly status: Exclude<RunStatus, 'running'>;
      readonly durationMs: number;
      readonly counts: RunCounts;
      readonly error: string | null;
    });

export interface RunCounts {
  materialized: number;
  unchanged: number;
  skipped: number;
  failed: number;
  blocked: number;
}

export type RunEventType = RunEvent['type'];

// A record over the union, so that a new kind of event that is not listed here fails to compile.
const EVENT_TYPES: Record<RunEventType, true> = {
  run_started: true,
  step_waiting: true,
  step_started: true,
  log: true,
  step_retrying: true,
  check_evaluated: true,
  step_materialized: true,
  step_blocked: true,
  step_skipped: true,
  step_failed: true,
  run_finished: true,
};
/** Every event type, as the store checks a type it reads back. */
export const RUN_EVENT_TYPES = Object.keys(EVENT_TYPES) as readonly RunEventType[];

/** The step events that end a step's attempt: whatever started it is no longer running. */
export const STEP_END_TYPES: ReadonlySet<RunEventType> = new Set(['step_materialized', 'step_failed', 'step_blocked', 'step_skipped']);
export type RunEventListener = (event: RunEvent) => void;

export function eventLevel(e: RunEvent): LogLevel {
  switch (e.type) {
    case 'log':
      return e.level;
    case 'step_failed':
    case 'step_blocked':
      return 'error';
    case 'step_retrying':
      return 'warn';
    case 'check_evaluated':
      return e.passed ? 'info' : e.blocking ? 'error' : 'warn';
    case 'run_finished':
      return e.status === 'succeeded' ? 'info' : 'error';
    default:
      return 'info';
  }
}

/** One line of text for an event: the store's message column and the plain CLI output. */
export function eventMessage(e: RunEvent): string {
  const where = 'asset' in e && e.asset ? describePartition(e.asset, e.partition ?? UNPARTITIONED) : '';
  switch (e.type) {
    case 'run_started':
      return `run ${e.runId} started (${e.trigger}): ${e.planned.run} to run, ${e.planned.conditional} to run if upstream changes, ${e.planned.skip} skipped`;
    case 'step_waiting':
      return `${where}: waiting, run ${e.holder} is materializing it`;
    case 'step_started':
      return `${where}: started${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}${e.worker ? ` on worker ${e.worker.host}:${e.worker.pid}` : ''}`;
    case 'log':
      return where ? `${where}: ${e.message}` : e.message;
    case 'step_retrying':
      return `${where}: attempt ${e.attempt} failed (${e.error}); retrying in ${Math.round(e.delayMs)} ms`;
    case 'check_evaluated':
      return `${where}: check ${e.check} ${e.passed ? 'passed' : e.blocking ? 'FAILED' : 'warned'}${e.message ? `: ${e.message}` : ''}`;
    case 'step_materialized':
      return `${where}: materialized ${e.dataVersion.slice(0, 8)}${e.unchanged ? (e.repaired ? ' (data unchanged; the corrupt stored file was rewritten)' : ' (data unchanged)') : e.repaired ? ' (replacing a corrupt version)' : ''} in ${formatMs(e.durationMs)}`;
    case 'step_blocked':
      return `${where}: not published, blocking check${e.failedChecks.length > 1 ? 's' : ''} ${e.failedChecks.join(', ')} failed: ${e.message}`;
    case 'step_skipped':
      return `${where}: skipped, ${e.reason}`;
    case 'step_failed':
      return `${where}: FAILED after ${formatMs(e.durationMs)}: ${e.error}`;
    case 'run_finished': {
      const c = e.counts;
      return `run ${e.runId} ${e.status} in ${formatMs(e.durationMs)}: ${c.materialized} materialized (${c.unchanged} unchanged), ${c.skipped} skipped, ${c.failed} failed, ${c.blocked} blocked${e.error ? ` — ${e.error}` : ''}`;
    }
  }
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
