// "What a worker needs to run one unit, and what it sends back": the JSON a coordinator queues
// for a unit (its plan steps, the results of the upstream steps they read, the run's options)
// and the result a worker records. The worker rebuilds from it exactly what the in-process
// executor hands run-unit.ts, so both run a unit with the same code.
import type { RunCounts } from '../events.ts';
import type { AssetKey, PartitionKey } from '../keys.ts';
import type { DynamicPartitionKeys } from '../partitions.ts';
import type { PlanStep } from '../planner.ts';
import type { RunTrigger } from '../store/records.ts';
import type { StepFailure } from './recorder.ts';
import type { StepResult } from './run-unit.ts';
import { stepId, type StepState, type Unit } from './units.ts';

export interface UnitRunOptions {
  readonly trigger: RunTrigger;
  readonly force: boolean;
  /** The planning clock, epoch ms. */
  readonly now: number;
  /** Dynamic partition keys as the run started. */
  readonly dynamic: readonly (readonly [string, readonly PartitionKey[]])[];
}

export interface UnitPayload {
  readonly unitId: string;
  readonly asset: AssetKey;
  readonly steps: readonly PlanStep[];
  /** Each upstream step of the unit's steps with its result (a failed one makes its dependents skip). */
  readonly upstream: readonly { readonly step: PlanStep; readonly result: StepResult }[];
  readonly run: UnitRunOptions;
}

export interface UnitResult {
  readonly results: readonly { readonly id: string; readonly result: StepResult }[];
  readonly counts: RunCounts;
  readonly failures: readonly StepFailure[];
  readonly runError: string | null;
  /** A resource problem that stops the whole run (the worker's disk is full). */
  readonly fatal: string | null;
}

export function dynamicToWire(d: DynamicPartitionKeys): UnitRunOptions['dynamic'] {
  return [...d];
}

export function toPayload(unit: Unit, states: ReadonlyMap<string, StepState>, results: ReadonlyMap<string, StepResult>, run: UnitRunOptions): UnitPayload {
  const own = new Set(unit.steps.map((s) => s.id));
  const upstream = new Map<string, { step: PlanStep; result: StepResult }>();
  for (const s of unit.steps) {
    for (const u of s.upstream) {
      if (own.has(u) || upstream.has(u)) continue;
      const result = results.get(u);
      // Scheduled after its upstream units ended, so every upstream step has a result.
      if (!result) throw new Error(`Internal error: ${s.id.replace('\u0000', '[')}] was queued before its upstream ${u.replace('\u0000', '[')}] ended.`);
      upstream.set(u, { step: { ...states.get(u)!.step, upstream: [] }, result });
    }
  }
  return { unitId: unit.id, asset: unit.asset, steps: unit.steps.map((s) => s.step), upstream: [...upstream.values()], run };
}

/** The unit, its step states (upstream ones included) and the upstream results, as run-unit.ts takes them. */
export function fromPayload(p: UnitPayload): {
  unit: Unit;
  states: Map<string, StepState>;
  results: Map<string, { outcome: StepResult['outcome']; failedUpstream?: string }>;
} {
  const state = (step: PlanStep): StepState => ({
    step,
    id: stepId(step.asset, step.partition),
    upstream: step.upstream.map((u) => stepId(u.asset, u.partition)),
  });
  const states = new Map<string, StepState>();
  const results = new Map<string, StepResult>();
  for (const u of p.upstream) {
    const s = state(u.step);
    states.set(s.id, s);
    results.set(s.id, u.result);
  }
  const steps = p.steps.map(state);
  for (const s of steps) states.set(s.id, s);
  return { unit: { id: p.unitId, asset: p.asset, steps, dependents: [], pending: 0 }, states, results };
}
