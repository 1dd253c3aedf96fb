// The pure planner: graph + a snapshot of current versions + a selection in,
// the plan out — which asset partitions run, which run only if their upstream
// produces new data, which are skipped, and why — and, for each step that runs, the planned
// steps it reads, so the executor runs them in order without walking the graph again.
// No disk, no clock, no network. Whether a partition must run is decision.ts's one rule.
import { decideRun } from './decision.ts';
import type { AssetGraph } from './graph.ts';
import { describePartition, UNPARTITIONED, type AssetKey, type PartitionKey } from './keys.ts';
import { describeCause, type StalenessResolver, type StaleCause, type Status } from './staleness.ts';

/** A planned step by its asset partition. */
export interface StepRef {
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
}

export type StepAction = 'run' | 'conditional' | 'skip';

export interface PlanStep {
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
  readonly action: StepAction;
  readonly status: Status;
  readonly causes: readonly StaleCause[];
  /** Why the step runs, may run, or is skipped, in words. */
  readonly reason: string;
  /** The steps of this plan whose outputs it reads (none for a skipped step). */
  readonly upstream: readonly StepRef[];
}

export interface Plan {
  /** Upstream before downstream; partitions in order within an asset. */
  readonly steps: readonly PlanStep[];
  readonly counts: Readonly<Record<StepAction, number>>;
}

export interface PlanRequest {
  readonly graph: AssetGraph<unknown>;
  readonly resolver: StalenessResolver;
  /** Selected assets, in topological order. */
  readonly assets: readonly AssetKey[];
  /** Partitions to consider per partitioned asset; all of its partitions when absent. */
  readonly partitions?: ReadonlyMap<AssetKey, readonly PartitionKey[]>;
  readonly force?: boolean;
  /** The run's clock: which partitions are due for a re-read (`refresh`) depends on it. */
  readonly now: Date;
}

export function planRun(req: PlanRequest): Plan {
  const { graph, resolver } = req;
  const steps: PlanStep[] = [];
  const planned = new Set<string>(); // asset\0partition of run/conditional steps
  const plannedCount = new Map<AssetKey, number>();
  const plannedOf = new Map<AssetKey, PartitionKey[]>();
  const counts: Record<StepAction, number> = { run: 0, conditional: 0, skip: 0 };

  for (const asset of req.assets) {
    const keys = req.partitions?.get(asset) ?? resolver.partitionKeys(asset);
    const def = graph.get(asset);
    for (const partition of keys) {
      const s = resolver.status(asset, partition);
      let action: StepAction;
      let reason: string;
      const decision = decideRun(def, partition, s, { now: req.now, dynamic: resolver.dynamic, force: req.force ?? false });
      if (decision.run) {
        action = 'run';
        reason = decision.reason;
      } else {
        const upstreamPlanned = plannedUpstream(req, asset, partition, planned, plannedCount);
        if (upstreamPlanned.length > 0) {
          action = 'conditional';
          reason = `runs only if ${upstreamPlanned.slice(0, 3).join(', ')}${upstreamPlanned.length > 3 ? ', …' : ''} produce${upstreamPlanned.length === 1 ? 's' : ''} new data`;
        } else if (s.status === 'STALE') {
          action = 'skip';
          reason = `stale (${s.causes.map(describeCause).join('; ')}) but that upstream is not in this selection`;
        } else {
          action = 'skip';
          reason = 'fresh';
        }
      }
      counts[action]++;
      const upstream = action === 'skip' ? [] : upstreamSteps(req, asset, partition, planned, plannedOf);
      if (action !== 'skip') {
        planned.add(asset + '\u0000' + partition);
        plannedCount.set(asset, (plannedCount.get(asset) ?? 0) + 1);
        let list = plannedOf.get(asset);
        if (!list) plannedOf.set(asset, (list = []));
        list.push(partition);
      }
      steps.push({ asset, partition, action, status: s.status, causes: s.causes, reason, upstream });
    }
  }
  return { steps, counts };
}

/** The planned steps `asset[partition]` reads: every planned partition of an upstream read whole, else those its mapping names. */
function upstreamSteps(req: PlanRequest, asset: AssetKey, partition: PartitionKey, planned: Set<string>, plannedOf: Map<AssetKey, PartitionKey[]>): StepRef[] {
  const out: StepRef[] = [];
  for (const dep of req.graph.deps(asset)) {
    const upstream = plannedOf.get(dep.asset);
    if (!upstream) continue;
    if (dep.mapping.kind === 'all') for (const k of upstream) out.push({ asset: dep.asset, partition: k });
    else
      for (const k of new Set(req.resolver.expectedInputs(dep, partition)))
        if (planned.has(dep.asset + '\u0000' + k)) out.push({ asset: dep.asset, partition: k });
  }
  return out;
}

function plannedUpstream(req: PlanRequest, asset: AssetKey, partition: PartitionKey, planned: Set<string>, plannedCount: Map<AssetKey, number>): string[] {
  const out: string[] = [];
  for (const dep of req.graph.deps(asset)) {
    if (!plannedCount.get(dep.asset)) continue;
    if (dep.mapping.kind === 'all') {
      out.push(dep.asset);
      continue;
    }
    for (const k of req.resolver.expectedInputs(dep, partition)) {
      if (planned.has(dep.asset + '\u0000' + k)) out.push(describePartition(dep.asset, k));
    }
  }
  return out;
}

/** One line per asset for `--dry-run`: what would run and why. */
export function describePlan(plan: Plan): string[] {
  const byAsset = new Map<AssetKey, PlanStep[]>();
  for (const s of plan.steps) {
    let list = byAsset.get(s.asset);
    if (!list) byAsset.set(s.asset, (list = []));
    list.push(s);
  }
  const lines: string[] = [];
  for (const [asset, steps] of byAsset) {
    if (steps.length === 1 && steps[0]!.partition === UNPARTITIONED) {
      const s = steps[0]!;
      lines.push(`${s.action.padEnd(11)} ${asset}: ${s.reason}`);
      continue;
    }
    const groups = new Map<string, PlanStep[]>();
    for (const s of steps) {
      const k = `${s.action}\u0000${s.reason}`;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = []));
      g.push(s);
    }
    for (const g of groups.values()) {
      const first = g[0]!;
      const span = g.length === 1 ? first.partition : `${g.length} partitions ${first.partition}…${g[g.length - 1]!.partition}`;
      lines.push(`${first.action.padEnd(11)} ${asset}[${span}]: ${first.reason}`);
    }
  }
  return lines;
}
