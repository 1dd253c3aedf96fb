// "What runs together, and after what": the plan's steps that run, grouped into units (one
// step, or a group of a batch asset's partitions: batches.ts), each unit knowing the units it
// waits for. The plan already names each step's upstream steps (planner.ts), so this is
// bookkeeping over the plan, not a second walk of the graph.
import { groupIntoBatches } from '../batches.ts';
import type { AssetGraph } from '../graph.ts';
import type { AssetKey, PartitionKey } from '../keys.ts';
import type { Plan, PlanStep } from '../planner.ts';

export const stepId = (asset: string, partition: string): string => asset + '\u0000' + partition;

/** One planned step and the steps it waits for. */
export interface StepState {
  readonly step: PlanStep;
  readonly id: string;
  /** Ids of the planned steps whose outputs it reads. */
  readonly upstream: readonly string[];
}

/** What the scheduler runs at once: one step, or a batch of one batch asset's steps. */
export interface Unit {
  /** Stable within a run: the asset and its first partition. */
  readonly id: string;
  readonly asset: AssetKey;
  readonly steps: readonly StepState[];
  readonly dependents: Unit[];
  /** Upstream units not finished yet. */
  pending: number;
}

export interface RunUnits {
  readonly states: ReadonlyMap<string, StepState>;
  readonly units: readonly Unit[];
  /** Steps per asset, in plan order (for the run_started event). */
  readonly stepsByAsset: ReadonlyMap<AssetKey, readonly StepState[]>;
}

export function buildUnits(graph: AssetGraph<unknown>, plan: Plan): RunUnits {
  const states = new Map<string, StepState>();
  const stepsByAsset = new Map<AssetKey, StepState[]>();
  for (const step of plan.steps) {
    if (step.action === 'skip') continue;
    const state: StepState = { step, id: stepId(step.asset, step.partition), upstream: step.upstream.map((u) => stepId(u.asset, u.partition)) };
    states.set(state.id, state);
    let list = stepsByAsset.get(step.asset);
    if (!list) stepsByAsset.set(step.asset, (list = []));
    list.push(state);
  }
  const units: Unit[] = [];
  const unitOf = new Map<string, Unit>();
  for (const [asset, list] of stepsByAsset) {
    for (const group of groupIntoBatches(
      graph,
      asset,
      list.map((s) => ({ partition: s.step.partition as PartitionKey, state: s })),
    )) {
      const steps = group.map((s) => s.state);
      const unit: Unit = { id: steps[0]!.id, asset, steps, dependents: [], pending: 0 };
      units.push(unit);
      for (const s of steps) unitOf.set(s.id, unit);
    }
  }
  for (const unit of units) {
    const upstreamUnits = new Set<Unit>();
    for (const s of unit.steps) for (const u of s.upstream) upstreamUnits.add(unitOf.get(u)!);
    upstreamUnits.delete(unit);
    for (const u of upstreamUnits) u.dependents.push(unit);
    unit.pending = upstreamUnits.size;
  }
  return { states, units, stepsByAsset };
}
