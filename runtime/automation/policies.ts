// "Which assets does declarative automation materialize now, and why (not)": pure over the
// graph, a staleness resolver and view of one store snapshot, the cursors of on_cron policies
// and the tick's time. Each asset with a policy yields at most one run request (its
// partitions together), keyed by what it would read, so the same upstream data never
// requests the same asset twice.
import { createHash } from 'node:crypto';
import type { AssetGraph } from '../graph.ts';
import { describePartition, UNPARTITIONED, type AssetKey, type PartitionKey } from '../keys.ts';
import { describeCause, type CurrentView, type StaleCause, type StalenessResolver } from '../staleness.ts';
import { dueTimesBetween, parseCron } from './cron.ts';
import type { AutomationPolicy, RunRequest, SkipReason } from './types.ts';
import { upstreamState } from './upstream-fingerprint.ts';
import { formatLocal } from './zoned-time.ts';

export interface PolicyInput {
  readonly graph: AssetGraph<unknown>;
  readonly resolver: StalenessResolver;
  readonly view: CurrentView;
  readonly now: Date;
  /** The cursor of each on_cron policy, by `policyCursorName(asset)`. */
  readonly cursors: ReadonlyMap<string, string | undefined>;
  /** How far back a first evaluation (or one after downtime) looks for due times. */
  readonly catchUpMs: number;
}

export interface PolicyEvaluation {
  readonly requests: RunRequest[];
  readonly skipped: SkipReason[];
  /** Assets whose policy was evaluated. */
  readonly evaluated: AssetKey[];
  /** New cursors of on_cron policies. */
  readonly cursors: Map<string, string>;
}

/** The store cursor name of an asset's on_cron policy. */
export const policyCursorName = (asset: AssetKey): string => `policy:${asset}`;

/** Only the reasons an eager asset runs for: its upstream data, or the set of upstream partitions, changed. */
const upstreamChanged = (c: StaleCause): boolean => c.kind === 'data' || c.kind === 'partitions';

export function evaluatePolicies(input: PolicyInput): PolicyEvaluation {
  const out: PolicyEvaluation = { requests: [], skipped: [], evaluated: [], cursors: new Map() };
  for (const asset of input.graph.keys()) {
    const policy = input.graph.get(asset).automation;
    if (!policy) continue;
    out.evaluated.push(asset);
    const r = evaluateOne(input, asset, policy, out);
    if (r) out.requests.push(r);
  }
  return out;
}

function evaluateOne(input: PolicyInput, asset: AssetKey, policy: AutomationPolicy, out: PolicyEvaluation): RunRequest | undefined {
  switch (policy.kind) {
    case 'eager':
      return eager(input, asset, out.skipped);
    case 'missing':
      return missing(input, asset, out.skipped);
    case 'on_cron':
      return onCron(input, asset, policy, out);
  }
}

/** The latest partition key of an asset ('' unpartitioned), or undefined when it has none yet. */
function latestKey(input: PolicyInput, asset: AssetKey): PartitionKey | undefined {
  const keys = input.resolver.partitionKeys(asset);
  return keys[keys.length - 1];
}

function eager(input: PolicyInput, asset: AssetKey, skipped: SkipReason[]): RunRequest | undefined {
  const { resolver, view, graph } = input;
  const wanted: { partition: PartitionKey; why: string; fingerprint: string }[] = [];
  // Materialized partitions whose upstream data changed since they consumed it.
  for (const p of view.materializedPartitions(asset)) {
    const s = resolver.status(asset, p);
    const cause = s.causes.find(upstreamChanged);
    if (!cause) continue;
    const up = upstreamState(graph, resolver, view, asset, p);
    if (!up.complete) {
      skipped.push({ subject: describePartition(asset, p), reason: `upstream changed, but ${up.firstMissing} is missing; waiting for it` });
      continue;
    }
    wanted.push({ partition: p, why: describeCause(cause), fingerprint: up.fingerprint });
  }
  // The latest partition, never materialized, once its inputs exist (new upstream data arrived).
  const latest = latestKey(input, asset);
  if (latest !== undefined && !view.current(asset, latest)) {
    const up = upstreamState(graph, resolver, view, asset, latest);
    if (up.complete)
      wanted.push({ partition: latest, why: `${describePartition(asset, latest)} is missing and its inputs exist`, fingerprint: up.fingerprint });
    else skipped.push({ subject: describePartition(asset, latest), reason: `missing, waiting for upstream ${up.firstMissing}` });
  }
  return requestFor(input, asset, 'eager', wanted);
}

function missing(input: PolicyInput, asset: AssetKey, skipped: SkipReason[]): RunRequest | undefined {
  const { resolver, view, graph } = input;
  const wanted: { partition: PartitionKey; why: string; fingerprint: string }[] = [];
  let waiting = 0;
  for (const p of resolver.partitionKeys(asset)) {
    if (view.current(asset, p)) continue;
    const up = upstreamState(graph, resolver, view, asset, p);
    if (up.complete) wanted.push({ partition: p, why: 'never materialized', fingerprint: up.fingerprint });
    else if (waiting++ === 0) skipped.push({ subject: describePartition(asset, p), reason: `missing, waiting for upstream ${up.firstMissing}` });
  }
  return requestFor(input, asset, 'missing', wanted);
}

function onCron(input: PolicyInput, asset: AssetKey, policy: Extract<AutomationPolicy, { kind: 'on_cron' }>, out: PolicyEvaluation): RunRequest | undefined {
  const name = policyCursorName(asset);
  const cron = parseCron(`Asset ${asset} automation`, policy.cron, policy.timezone);
  const windowStart = input.now.getTime() - input.catchUpMs;
  const cursor = input.cursors.get(name);
  const after = new Date(cursor === undefined ? windowStart : Math.max(Date.parse(cursor), windowStart));
  out.cursors.set(name, input.now.toISOString());
  // Several due times since the last tick need one run: the latest partition, once.
  const due = dueTimesBetween(cron, after, input.now, 1_000).at(-1);
  if (!due) return undefined;
  const at = formatLocal(due.getTime(), policy.timezone);
  const latest = latestKey(input, asset);
  if (latest === undefined) {
    out.skipped.push({ subject: asset, reason: `due at ${at}, but the asset has no partitions yet` });
    return undefined;
  }
  const s = input.resolver.status(asset, latest);
  if (s.status === 'FRESH') {
    out.skipped.push({ subject: describePartition(asset, latest), reason: `due at ${at}, already fresh` });
    return undefined;
  }
  return {
    selection: asset,
    ...(latest === UNPARTITIONED ? {} : { partitions: [latest] }),
    dedupeKey: `on_cron:${asset}:${due.toISOString()}`,
    reason: `on_cron due at ${at}: ${describePartition(asset, latest)} is ${s.status.toLowerCase()}`,
  };
}

function requestFor(
  input: PolicyInput,
  asset: AssetKey,
  kind: 'eager' | 'missing',
  wanted: readonly { partition: PartitionKey; why: string; fingerprint: string }[],
): RunRequest | undefined {
  if (wanted.length === 0) return undefined;
  const partitioned = input.graph.get(asset).partitions !== undefined;
  const shown = wanted.slice(0, 3).map((w) => (partitioned ? `${w.partition}: ${w.why}` : w.why));
  return {
    selection: asset,
    ...(partitioned ? { partitions: wanted.map((w) => w.partition) } : {}),
    // The partitions and what each would read: the same upstream data, the same key.
    dedupeKey: `${kind}:${asset}:${fingerprintOf(wanted)}`,
    reason: `${kind}: ${shown.join('; ')}${wanted.length > 3 ? `; and ${wanted.length - 3} more partitions` : ''}`,
  };
}

function fingerprintOf(wanted: readonly { partition: PartitionKey; fingerprint: string }[]): string {
  if (wanted.length === 1) return `${wanted[0]!.partition}@${wanted[0]!.fingerprint}`;
  const h = createHash('sha256');
  for (const w of wanted) h.update(`${w.partition}@${w.fingerprint}\n`);
  return `${wanted.length}@${h.digest('hex').slice(0, 16)}`;
}
