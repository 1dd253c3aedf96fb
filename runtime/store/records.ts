// The records the lineage store holds, as the rest of the runtime (and the
// server and UI) read them.
import type { JsonValue, Metadata } from '../definitions.ts';
import type { AssetKey, PartitionKey } from '../keys.ts';
import type { CodeVersion, DataVersion } from '../versions.ts';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'canceled';
export type RunTrigger = 'cli' | 'cron' | 'ui' | 'api' | 'test';

export interface RunRecord {
  readonly id: string;
  readonly selection: string;
  readonly partitions: string | null;
  readonly status: RunStatus;
  readonly trigger: string;
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

/** The current (published) version of one asset partition, with what it consumed. */
export interface CurrentRecord {
  readonly id: number;
  readonly codeVersion: CodeVersion;
  readonly dataVersion: DataVersion;
  readonly location: string;
  readonly runId: string;
  readonly endedAt: number;
  readonly inputs: readonly InputRecord[];
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
  readonly level: string;
  readonly type: string;
  readonly asset: string | null;
  readonly partition: string | null;
  readonly message: string;
  readonly data: Record<string, JsonValue> | null;
}

/** asset -> partition -> current version. */
export type CurrentSnapshot = Map<AssetKey, Map<PartitionKey, CurrentRecord>>;
