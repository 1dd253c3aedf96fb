// The records the lineage store holds, as the rest of the runtime (and the
// server and UI) read them.
import type { JsonValue, Metadata } from '../definitions.ts';
import type { RunEventType } from '../events.ts';
import type { LogLevel } from '../logger.ts';
import type { AssetKey, PartitionKey } from '../keys.ts';
import type { CodeVersion, DataVersion } from '../versions.ts';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'canceled';
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'failed', 'canceled'];
/** What started a run. */
export const RUN_TRIGGERS = ['cli', 'cron', 'ui', 'api', 'test', 'schedule', 'sensor', 'automation'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

export interface RunRecord {
  readonly id: string;
  readonly selection: string;
  readonly partitions: string | null;
  readonly status: RunStatus;
  readonly trigger: RunTrigger;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  /** Last sign of life of the process running it (epoch ms); a live run beats every few seconds. */
  readonly heartbeatAt: number;
  readonly endedAt: number | null;
  readonly summary: Record<string, JsonValue> | null;
  readonly error: string | null;
}

export interface InputRecord {
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
  readonly materializationId: number;
  readonly dataVersion: DataVersion;
}

export interface MaterializationRecord {
  readonly id: number;
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
  readonly runId: string;
  readonly status: 'published' | 'blocked';
  readonly codeVersion: CodeVersion;
  readonly dataVersion: DataVersion;
  readonly location: string | null;
  readonly metadata: Metadata;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** How a stored file was found bad: its bytes hash to another version, it is gone, or it cannot be read. */
export type CorruptReason = 'mismatch' | 'missing' | 'unreadable';
/** Who found it: `materialize verify`, a step reading its inputs, the server, or a publish reusing the file. */
export type CorruptDetector = 'verify' | 'step' | 'server' | 'publish';

/**
 * A current version whose stored file is known to be bad. It holds until a good version of
 * the partition is committed (or verify finds the file intact again); while it holds, the
 * partition is stale and the planner rematerializes it.
 */
export interface CorruptMark {
  readonly materializationId: number;
  readonly reason: CorruptReason;
  /** What was seen, in words (the hash found, the read error). */
  readonly detail: string;
  readonly expected: DataVersion;
  /** The data version the file's bytes hash to, when it could be read. */
  readonly found: DataVersion | null;
  readonly detectedBy: CorruptDetector;
  readonly detectedAt: number;
}

/** The current (published) version of one asset partition, with what it consumed. */
export interface CurrentRecord {
  readonly id: number;
  readonly codeVersion: CodeVersion;
  readonly dataVersion: DataVersion;
  readonly location: string;
  readonly runId: string;
  readonly endedAt: number;
  readonly inputs: readonly InputRecord[];
  /** Set when the stored file was found bad (see CorruptMark). */
  readonly corrupt?: CorruptMark;
}

export interface CheckResultRecord {
  readonly id: number;
  readonly materializationId: number | null;
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
  readonly runId: string;
  readonly name: string;
  readonly blocking: boolean;
  readonly passed: boolean;
  readonly message: string;
  readonly metadata: Metadata;
  readonly createdAt: number;
}

export interface EventRecord {
  readonly id: number;
  readonly runId: string;
  readonly ts: number;
  readonly level: LogLevel;
  readonly type: RunEventType;
  readonly asset: string | null;
  readonly partition: string | null;
  readonly message: string;
  readonly data: Record<string, JsonValue> | null;
}

/** asset -> partition -> current version. */
export type CurrentSnapshot = Map<AssetKey, Map<PartitionKey, CurrentRecord>>;
