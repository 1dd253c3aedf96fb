// The one entry point that plans and runs a materialization, shared by the
// CLI, the server's "Materialize" action and the tests.
import { randomBytes } from 'node:crypto';
import { RuntimeError } from './errors.ts';
import { executePlan, type ExecuteOptions, type RunResult } from './executor.ts';
import type { RunEventListener } from './events.ts';
import type { Instance } from './instance.ts';
import type { AssetKey, PartitionKey } from './keys.ts';
import { parsePartitionArgument } from './partition-argument.ts';
import { planRun, type Plan } from './planner.ts';
import { resolveSelection } from './selection.ts';
import type { RunTrigger } from './store/records.ts';

export interface MaterializeRequest {
  /** Selection string (`key`, `+key`, `key+`, `group:name`, comma lists); everything when empty. */
  readonly selection?: string;
  /** `--partition` argument: a key, `from...to`, or a comma list; applies to the selected partitioned assets. */
  readonly partitions?: string;
  /** Run every selected step, fresh or not. */
  readonly force?: boolean;
  /** What started the run: cli, cron, ui, api, test. */
  readonly trigger?: RunTrigger;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: RunEventListener;
  /** Called once the run is recorded in the store (its id can be looked up from then on). */
  readonly onRecorded?: () => void;
  readonly now?: Date;
  readonly runId?: string;
  /** Run the steps on `materialize worker` processes through this queue (executor.ts). */
  readonly workers?: ExecuteOptions['workers'];
}

export interface PreparedRun {
  readonly runId: string;
  readonly assets: readonly AssetKey[];
  readonly plan: Plan;
  readonly now: Date;
}

export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Resolves the selection and partitions and computes the plan, without running anything. */
export async function prepareRun(instance: Instance<unknown>, req: MaterializeRequest = {}): Promise<PreparedRun> {
  const now = req.now ?? new Date();
  const assets = resolveSelection(instance.graph, req.selection);
  let partitions: Map<AssetKey, PartitionKey[]> | undefined;
  if (req.partitions !== undefined) {
    partitions = new Map();
    const dynamic = await instance.store.dynamicPartitionKeys();
    for (const a of assets) {
      const def = instance.graph.get(a).partitions;
      if (def) partitions.set(a, parsePartitionArgument(req.partitions, def, now, dynamic));
    }
    if (partitions.size === 0) {
      throw new RuntimeError('invalid-partition', `--partition was given, but none of the selected assets (${assets.join(', ')}) is partitioned.`);
    }
  }
  const plan = planRun({ graph: instance.graph, resolver: await instance.resolver(now, assets), assets, partitions, force: req.force ?? false, now });
  return { runId: req.runId ?? newRunId(now), assets, plan, now };
}

export async function materialize(instance: Instance<unknown>, req: MaterializeRequest = {}): Promise<RunResult & { plan: Plan }> {
  const prepared = await prepareRun(instance, req);
  return runPrepared(instance, prepared, req);
}

export async function runPrepared(instance: Instance<unknown>, prepared: PreparedRun, req: MaterializeRequest = {}): Promise<RunResult & { plan: Plan }> {
  const result = await executePlan(instance, prepared.plan, {
    runId: prepared.runId,
    selection: req.selection?.trim() || '*',
    partitions: req.partitions ?? null,
    trigger: req.trigger ?? 'api',
    force: req.force ?? false,
    concurrency: req.concurrency,
    signal: req.signal,
    onEvent: req.onEvent,
    onRecorded: req.onRecorded,
    now: prepared.now,
    workers: req.workers ?? instance.workers,
  });
  return { ...result, plan: prepared.plan };
}
