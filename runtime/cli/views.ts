// How the CLI's non-run commands (status, show, lineage, runs, show-run, prune) write what they
// found: one view per command, each with its JSON form (one line, for scripts) and its text
// form (for people). A command gathers a typed result and hands it to its view; a new output
// format is a new method here, not a new `if` in every command. (Runs stream events through
// render.ts instead; tick, daemon, ticks and partitions keep their views beside their commands,
// in automation-commands.ts and partitions-command.ts.)
import type { AssetStatus } from '../instance.ts';
import type { FreshnessState } from '../automation/types.ts';
import { formatMs } from '../events.ts';
import { describePartition, type AssetKey, type PartitionKey } from '../keys.ts';
import type { LineageGroup, LineageResult } from '../lineage.ts';
import type { PruneResult } from '../prune.ts';
import { describeCause, type PartitionStatus } from '../staleness.ts';
import type { CheckResultRecord, CurrentRecord, EventRecord, MaterializationRecord, RunRecord } from '../store/records.ts';
import type { QueuedRunRecord } from '../store/run-queue-records.ts';
import { shortVersion } from '../versions.ts';

/** A command's two outputs: each returns the whole text to write. */
export interface CommandView<T> {
  json(result: T): string;
  text(result: T): string;
}

/** Writes `result` through `view` in the format the command line asked for. */
export function writeView<T>(out: NodeJS.WritableStream, view: CommandView<T>, result: T, json: boolean): void {
  out.write(json ? view.json(result) : view.text(result));
}

const jsonLine = (value: unknown): string => JSON.stringify(value) + '\n';
const utcSeconds = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n') + '\n';
}

const FRESHNESS_LABEL: Readonly<Record<FreshnessState, string>> = { on_time: 'on time', late: 'LATE', unknown: 'unknown' };

/** `materialize status`: one row per asset; a DEADLINE column and the verdicts in words when an asset declares a deadline. */
export const statusView: CommandView<readonly AssetStatus[]> = {
  json: (summaries) => jsonLine(summaries),
  text(summaries) {
    const rows = summaries.map((s) => [
      s.asset,
      s.corrupt > 0 && s.status !== 'MISSING' ? 'CORRUPT' : s.status,
      s.partitioned ? `${s.fresh}/${s.stale}/${s.missing}` : '',
      s.lastMaterializedAt ? utcSeconds(s.lastMaterializedAt) : '-',
      s.dataVersion ? shortVersion(s.dataVersion) : '-',
      s.causes
        .slice(0, 2)
        .map((c) => (s.partitioned ? `${c.text} (${c.partitions} partitions)` : c.text))
        .join('; '),
    ]);
    const withDeadline = summaries.filter((s) => s.freshness);
    if (withDeadline.length === 0) return table(['ASSET', 'STATUS', 'FRESH/STALE/MISSING', 'LAST MATERIALIZED (UTC)', 'DATA VERSION', 'WHY'], rows);
    const onTime = summaries.map((s) => (s.freshness ? FRESHNESS_LABEL[s.freshness.state] : ''));
    let text = table(
      ['ASSET', 'STATUS', 'DEADLINE', 'FRESH/STALE/MISSING', 'LAST MATERIALIZED (UTC)', 'DATA VERSION', 'WHY'],
      rows.map((r, i) => [r[0]!, r[1]!, onTime[i]!, ...r.slice(2)]),
    );
    // The deadline verdicts in full: they are sentences, too long for a column.
    text += '\nDeadlines:\n';
    for (const s of withDeadline) text += `  ${s.asset}: ${FRESHNESS_LABEL[s.freshness!.state]} — ${s.freshness!.reason}\n`;
    return text;
  },
};

/** What `materialize show` found for one partition of an asset. */
export interface ShowResult {
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
  readonly description: string | undefined;
  readonly codeVersion: string;
  readonly codeVersionIsDerived: boolean;
  readonly status: PartitionStatus;
  readonly current: CurrentRecord | undefined;
  readonly record: MaterializationRecord | undefined;
  readonly checks: readonly CheckResultRecord[];
}

export const showView: CommandView<ShowResult> = {
  json: (r) =>
    jsonLine({
      asset: r.asset,
      partition: r.partition,
      status: r.status.status,
      causes: r.status.causes,
      materialization: r.record ?? null,
      inputs: r.current?.inputs ?? [],
      checks: r.checks,
    }),
  text(r) {
    let text = `${describePartition(r.asset, r.partition)}  ${r.status.status}\n`;
    if (r.description) text += `  ${r.description}\n`;
    text += `  code version: ${r.codeVersion}${r.codeVersionIsDerived ? ' (hash of the source)' : ''}\n`;
    const record = r.record;
    if (!record) return text + '  never materialized\n';
    text += `  data version: ${record.dataVersion}\n  run: ${record.runId}, ${new Date(record.endedAt).toISOString()}, took ${formatMs(record.endedAt - record.startedAt)}\n  location: ${record.location}\n`;
    for (const c of r.status.causes) text += `  stale: ${describeCause(c)}\n`;
    for (const c of r.checks) text += `  check ${c.name}: ${c.passed ? 'passed' : c.blocking ? 'FAILED' : 'warned'}${c.message ? ` — ${c.message}` : ''}\n`;
    const { summary, ...rest } = record.metadata;
    text += `  metadata:\n${JSON.stringify(rest, null, 2).replace(/^/gm, '    ')}\n`;
    if (typeof summary === 'string') text += `\n${summary}\n`;
    return text;
  },
};

/** What `materialize lineage` found: the lineage of the current version, or that there is none. */
export type LineageCommandResult =
  | { readonly kind: 'never-materialized'; readonly asset: AssetKey; readonly partition: PartitionKey }
  | { readonly kind: 'lineage'; readonly lineage: LineageResult };

const neverMaterialized = (r: { asset: AssetKey; partition: PartitionKey }): string =>
  `${describePartition(r.asset, r.partition)} has never been materialized.\n`;

export const lineageView: CommandView<LineageCommandResult> = {
  // The sentence in JSON mode too (and exit 0 there, see main.ts): there is no lineage object to write.
  json: (r) => (r.kind === 'lineage' ? jsonLine(r.lineage) : neverMaterialized(r)),
  text(r) {
    if (r.kind === 'never-materialized') return neverMaterialized(r);
    const root = r.lineage.root;
    let text = `${describePartition(root.asset, root.partition)} ${shortVersion(root.dataVersion)} (run ${root.runId}, ${new Date(root.endedAt).toISOString()})\n`;
    text += 'consumed:\n' + lineageGroups(r.lineage.upstream, '  ');
    text += 'consumed by:\n' + lineageGroups(r.lineage.downstream, '  ');
    return text;
  },
};

function lineageGroups(groups: readonly LineageGroup[], indent: string): string {
  let text = groups.length === 0 ? `${indent}(nothing)\n` : '';
  for (const g of groups) {
    const span = g.count > 1 ? ` — ${g.count} partitions ${g.firstPartition} … ${g.lastPartition}` : '';
    text += `${indent}${g.asset}${span}\n`;
    for (const e of g.entries) {
      text += `${indent}  ${e.partition ? `[${e.partition}] ` : ''}${shortVersion(e.dataVersion)} code ${shortVersion(e.codeVersion)} run ${e.runId} ${new Date(e.endedAt).toISOString()}\n`;
      if (e.groups.length > 0) text += lineageGroups(e.groups, indent + '    ');
    }
    if (g.count > g.entries.length) text += `${indent}  … ${g.count - g.entries.length} more\n`;
  }
  return text;
}

/** `materialize runs`: the queued runs (text only), then the recent ones. */
export interface RunsResult {
  readonly runs: readonly RunRecord[];
  readonly queued: readonly QueuedRunRecord[];
}

export const runsView: CommandView<RunsResult> = {
  json: (r) => jsonLine(r.runs),
  text({ runs, queued }) {
    let text = '';
    if (queued.length > 0) {
      text += table(
        ['QUEUED RUN', 'TRIGGER', 'QUEUED (UTC)', 'POOLS', 'SELECTION'],
        queued.map((q) => [q.runId, q.trigger, utcSeconds(q.enqueuedAt), q.pools.join(',') || '-', q.selection + (q.partitions ? ` [${q.partitions}]` : '')]),
      );
      text += '\n';
    }
    return (
      text +
      table(
        ['RUN', 'STATUS', 'TRIGGER', 'STARTED (UTC)', 'DURATION', 'SELECTION', 'RESULT'],
        runs.map((r) => [
          r.id,
          r.status,
          r.trigger,
          utcSeconds(r.startedAt),
          r.endedAt ? formatMs(r.endedAt - r.startedAt) : 'running',
          r.selection + (r.partitions ? ` [${r.partitions}]` : ''),
          r.summary
            ? `${r.summary.materialized} materialized, ${r.summary.skipped} skipped, ${r.summary.failed} failed, ${r.summary.blocked} blocked`
            : (r.error ?? ''),
        ]),
      )
    );
  },
};

/** `materialize show-run`: one run and its event log. */
export interface ShowRunResult {
  readonly run: RunRecord;
  readonly events: readonly EventRecord[];
}

export const showRunView: CommandView<ShowRunResult> = {
  json: (r) => jsonLine({ run: r.run, events: r.events }),
  text({ run, events }) {
    let text = `run ${run.id}: ${run.status} (${run.trigger}, ${run.host} pid ${run.pid})${run.error ? ` — ${run.error}` : ''}\n`;
    for (const e of events) text += `${new Date(e.ts).toISOString().slice(11, 23)} ${e.level.padEnd(5)} ${e.message}\n`;
    return text;
  },
};

/** `materialize prune`: what was (or, with --dry-run, would be) removed. */
export const pruneView: CommandView<PruneResult> = {
  json: (r) => jsonLine(r),
  text(r) {
    const did = r.dryRun ? 'Would remove' : 'Removed';
    let text =
      `${did} ${r.materializations} superseded materializations, ${r.files} files and ${r.events} events older than ${new Date(r.cutoff).toISOString()}, ` +
      `and ${r.orphans} orphan files (published by a process that died before recording them).\n`;
    if (r.scratch > 0) text += `${did} ${r.scratch} scratch directories left by runs whose process died.\n`;
    if (r.ticks + r.claims + r.queueRows > 0)
      text += `${did} ${r.ticks} automation ticks, ${r.claims} run request claims and ${r.queueRows} ended run queue rows older than the cutoff.\n`;
    if (r.assetRecords > 0)
      text += `${did} ${r.assetRecords} asset records recorded before ${new Date(r.recordsCutoff).toISOString()} (--records-older-than).\n`;
    if (r.busy > 0) text += `Left ${r.busy} files whose asset partition a live run holds; run prune again later.\n`;
    return text;
  },
};
