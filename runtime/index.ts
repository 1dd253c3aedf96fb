// The runtime's public API. Everything the PJM assets, the server, the UI and
// the tests use is exported from here; the rest is internal.
export { defineAsset, defineDefinitions } from './definitions.ts';
export { eachPartition } from './batch-each.ts';
export type {
  AssetCheck,
  AssetContext,
  AssetDefinition,
  AssetInput,
  AssetSpec,
  BatchContext,
  BatchMember,
  BatchOutput,
  BatchPolicy,
  CandidateOutput,
  CheckContext,
  CheckOutcome,
  ConsumedPartition,
  Definitions,
  DefinitionsOptions,
  DependencySpec,
  IoKind,
  JsonValue,
  MaterializeOutput,
  Metadata,
  RetryPolicy,
  Schedule,
} from './definitions.ts';
export { RuntimeError, isRuntimeError, errorMessage, type RuntimeErrorReason } from './errors.ts';
export { assetKey, describePartition, UNPARTITIONED, type AssetKey, type PartitionKey } from './keys.ts';
export {
  dailyPartitions,
  hourlyPartitions,
  staticPartitions,
  dynamicPartitions,
  type DynamicPartitionsSpec,
  type DynamicPartitionKeys,
  type DynamicPartitionsDefinition,
  type PartitionsDefinition,
  type PartitionsKind,
} from './partitions.ts';
export { multiPartitions, MultiPartitions, asMulti, type PartitionDimension } from './partitions-multi.ts';
export {
  identityMapping,
  allPartitionsMapping,
  trailingWindowMapping,
  dimensionMapping,
  describeMapping,
  type PartitionMapping,
} from './partition-mapping.ts';
export { refreshReason, type RefreshPolicy } from './refresh.ts';
export { parsePartitionArgument } from './partition-argument.ts';
export { AssetGraph } from './graph.ts';
export { resolveSelection } from './selection.ts';
export { StalenessResolver, describeCause, summarizeAsset, type StaleCause, type Status, type PartitionStatus, type AssetStatusSummary } from './staleness.ts';
export { planRun, describePlan, type Plan, type PlanStep, type StepAction } from './planner.ts';
export { Instance, type InstanceOptions, type AssetStatus } from './instance.ts';
export { freshnessOf, latestDeadline, type AssetFreshness } from './automation/freshness.ts';
export type { FreshnessPolicy, FreshnessState, FreshnessStatus } from './automation/types.ts';
export { materialize, prepareRun, runPrepared, newRunId, type MaterializeRequest, type PreparedRun } from './materialize.ts';
export { prune, parseAge, DEFAULT_ORPHAN_GRACE_MS, DEFAULT_RECORDS_RETENTION_MS, type PruneOptions, type PruneResult } from './prune.ts';
export type { RunResult } from './executor.ts';
export { eventMessage, formatMs, STEP_END_TYPES, type RunEvent, type RunEventListener, type RunEventType, type RunCounts } from './events.ts';
export { foldRun, pickCounts, EMPTY_RUN_FOLD, type RunProgressFold, type AssetProgress, type StepCounts } from './run-fold.ts';
export { runEventFromRecord } from './store/run-rows.ts';
export type { Logger, LogLevel } from './logger.ts';
export type { LineageStore, LineageStoreKind, StoreChange, StoreChangeListener } from './store/lineage-store-api.ts';
export { assetRecordsOf, type AssetRecord, type AssetRecordQuery, type AssetRecords, type NewAssetRecord } from './store/asset-records.ts';
export { openLineageStore, parseStoreTarget, storeTargetFromEnv, type LineageStoreTarget } from './store/open-store.ts';
export { lineageOf, type LineageResult, type LineageTree, type LineageEntry, type LineageGroup } from './lineage.ts';
export type {
  RunRecord,
  MaterializationRecord,
  CurrentRecord,
  CheckResultRecord,
  EventRecord,
  InputRecord,
  RunStatus,
  RunTrigger,
  CorruptMark,
  CorruptReason,
  CorruptDetector,
} from './store/records.ts';
export { verifyStore, checkVersions, describeBadFile, type BadFile, type StoredVersion, type VerifyResult, type VerifyOptions } from './integrity.ts';
export type { Storage, PublishRequest, StoredFile, FileCheck, ScratchDir } from './storage/storage.ts';
export { LocalStorage } from './storage/local.ts';
export { S3Storage, type S3StorageOptions } from './storage/s3.ts';
export { storageFromEnv, STORAGE_KINDS, type StorageKind } from './storage/from-env.ts';
export { duckdbConnect, readParquetSql, sqlString } from './duckdb.ts';
export { shortVersion, type CodeVersion, type DataVersion } from './versions.ts';
