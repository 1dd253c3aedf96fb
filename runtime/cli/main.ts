// The `materialize` CLI. Commands:
//   materialize [selection] [--partition P] [--force] [--dry-run] [--json] [--trigger T]
//   materialize status [selection] [--json]
//   materialize show <asset> [--partition P] [--json]
//   materialize lineage <asset> [--partition P] [--depth N] [--json]
//   materialize runs [--limit N] [--json]
//   materialize show-run <id> [--json]
//   materialize prune --older-than 30d [--records-older-than 365d] [--dry-run]
//   materialize verify [selection] [--partition P] [--json]
//   materialize partitions list|add|remove [NAME] [KEY...]
//   materialize tick | daemon [--interval 30s] | ticks [--name N]
// Exit codes: 0 success, 1 failure, 2 usage error.
import { parseArgs } from 'node:util';
import { errorMessage, isRuntimeError } from '../errors.ts';
import type { RunEvent } from '../events.ts';
import { Instance } from '../instance.ts';
import { describePartition, UNPARTITIONED, type AssetKey } from '../keys.ts';
import { lineageOf } from '../lineage.ts';
import { prepareRun } from '../materialize.ts';
import { describePlan } from '../planner.ts';
import { parsePartitionArgument } from '../partition-argument.ts';
import { prune, parseAge } from '../prune.ts';
import { unknownAsset } from '../selection.ts';
import { RUN_TRIGGERS, type RunTrigger } from '../store/records.ts';
import { configureDuckdb } from '../duckdb.ts';
import { isSettingError, loadRuntimeSettings, prepareDataDir, wholeNumber, type RuntimeSettings } from '../settings.ts';
import { loadDefinitions } from './load-definitions.ts';
import { PartitionsUsageError, partitionsCommand } from './partitions-command.ts';
import { jsonRenderer, plainRenderer, ttyRenderer } from './render.ts';
import { checkWarnings } from './check-warnings.ts';
import { verifyCommand } from './verify-command.ts';
import { lineageView, pruneView, runsView, showRunView, showView, statusView, writeView } from './views.ts';
import { daemonCommand, parseInterval, parseTickTime, tickCommand, ticksCommand } from './automation-commands.ts';

import { RuntimeError } from '../errors.ts';
import { executorSettingsFromEnv, runQueueSettingsFromEnv, type ExecutorSettings, type RunQueueSettings } from '../settings.ts';
import { RunQueue } from '../queue/run-queue.ts';
import type { LineageStoreTarget } from '../store/open-store.ts';
import { configureXGBoost } from '../../lib/xgboost/config.ts';
import type { WorkerQueue } from '../executor/launcher.ts';
import type { UnitPayload, UnitResult } from '../executor/work-unit.ts';
import { runWorker } from '../worker.ts';

/** How long `materialize daemon` ticks on one load of the definitions before it opens them again. */
const DAEMON_REOPEN_MS = 60 * 60_000;
const COMMANDS = [
  'status',
  'show',
  'lineage',
  'runs',
  'show-run',
  'prune',
  'verify',
  'partitions',
  'worker',
  'tick',
  'daemon',
  'ticks',
  'help',
  'run',
] as const;

const USAGE = `Usage: materialize [command] [options]

Commands:
  [run] [selection]       materialize what is missing or stale (default command)
  status [selection]      status of each asset: fresh, stale (and why) or missing
  show <asset>            the current materialization with its metadata
  lineage <asset>         what a materialization consumed, recursively, and what consumed it
  runs                    queued and recent runs
  runs cancel <id>        cancel a queued run (it never starts)
  show-run <id>           one run's events
  prune                   remove old events, superseded versions, orphan files and dead runs' scratch directories (--older-than 30d),
                          and asset records older than --records-older-than (default 365d)
  verify [selection]      hash every current file against its data version; report and mark the bad ones (exit 1)
  partitions list|add|remove [NAME] [KEY...]
                          keys of dynamic partitions (e.g. add a pricing node)
  tick                    evaluate schedules, sensors and asset automation once, run what they request, exit
  daemon                  tick every --interval (default 30s) until SIGTERM (which lets the tick in progress finish)
  ticks                   recent ticks: what each evaluated, requested (and run ids), and why not (--name N)
  worker                  a worker of the pool: runs the units coordinators queue (LINEAGE_STORE=postgres://…)
  serve                   start the HTTP server (API, UI, /predict)

Selection: key, +key (with upstream), key+ (with downstream), group:name, * ; comma lists.

Options:
  -p, --partition P       a partition key, a range FROM...TO, or a comma list;
                          two dimensions: node=A,B,day=FROM...TO (a dimension left out: all its keys)
  -f, --force             run selected steps even when fresh
  -n, --dry-run           print the plan and why each step runs or is skipped
      --json              machine-readable output (JSON lines for runs)
      --trigger T         what started the run: cli (default), cron, ui, api
      --concurrency N     steps run at once (default: twice the cores, 2 to 8; 64 with --executor workers)
      --executor E        in-process (default, or $EXECUTOR) or workers (needs LINEAGE_STORE=postgres://…)
      --definitions PATH  definitions module (default assets/definitions.ts, or $ASSET_DEFINITIONS)
      --data-dir DIR      store and local files (default $DATA_DIR or ./data)
      --limit N           rows for runs (default 20)
      --depth N           lineage depth (default 3)
      --older-than AGE    prune age, e.g. 30d, 12h
      --records-older-than AGE
                          prune age of asset records (the served-forecast log), default 365d
      --interval D        daemon tick interval, e.g. 30s, 5m
      --at TIME           tick as of this ISO instant, within the last 24 h (a schedule due then
                          that no tick handled yet fires now; e.g. a CronJob pod that started late)
      --name N            ticks of one schedule or sensor (or "automation" for asset policies)
  -h, --help              this help
`;

class UsageError extends Error {}

/** The command line's flags (every command's) and positionals; throws on an unknown flag. */
function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      partition: { type: 'string', short: 'p' },
      force: { type: 'boolean', short: 'f' },
      'dry-run': { type: 'boolean', short: 'n' },
      json: { type: 'boolean' },
      trigger: { type: 'string' },
      concurrency: { type: 'string' },
      executor: { type: 'string' },
      definitions: { type: 'string' },
      'data-dir': { type: 'string' },
      limit: { type: 'string' },
      depth: { type: 'string' },
      'older-than': { type: 'string' },
      'records-older-than': { type: 'string' },
      interval: { type: 'string' },
      at: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

const isRunTrigger = (value: string): value is RunTrigger => (RUN_TRIGGERS as readonly string[]).includes(value);

export async function main(argv: string[], io: { out?: NodeJS.WriteStream; err?: NodeJS.WriteStream } = {}): Promise<number> {
  const out = io.out ?? process.stdout;
  const err = io.err ?? process.stderr;
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (e) {
    err.write(`${errorMessage(e)}\n\n${USAGE}`);
    return 2;
  }
  const { values: opts, positionals } = parsed;
  const first = positionals[0];
  const command = first && (COMMANDS as readonly string[]).includes(first) ? first : 'run';
  const args = command === 'run' && first !== 'run' ? positionals : positionals.slice(1);
  if (opts.help || command === 'help') {
    out.write(USAGE);
    return 0;
  }

  // Every setting and numeric flag is checked before any work: a bad one is one line naming it, exit 2.
  let settings: RuntimeSettings;
  let executor: ExecutorSettings;
  let queueSettings: RunQueueSettings;
  let limit: number;
  let depth: number;
  let intervalMs: number;
  let tickAt: Date | undefined;
  try {
    intervalMs = opts.interval === undefined ? 30_000 : parseInterval(opts.interval);
    tickAt = opts.at === undefined ? undefined : parseTickTime(opts.at, new Date());
    limit = wholeNumber('--limit', opts.limit, 20, 1, 100_000);
    depth = wholeNumber('--depth', opts.depth, 3, 0, 1_000);
    settings = loadRuntimeSettings(process.env, { dataDir: opts['data-dir'], definitions: opts.definitions });
    executor = executorSettingsFromEnv(process.env, { executor: opts.executor });
    queueSettings = runQueueSettingsFromEnv(process.env);
    // Workers share their units through the PostgreSQL store: refuse before any work, naming the fix.
    if ((executor.kind === 'workers' || command === 'worker') && settings.store.kind !== 'postgres') {
      throw new RuntimeError(
        'store-config',
        `${command === 'worker' ? '`materialize worker`' : '--executor workers'} needs the shared PostgreSQL lineage store: set LINEAGE_STORE=postgres://USER:PASSWORD@HOST:5432/DATABASE (the SQLite store under DATA_DIR has no worker mode).`,
      );
    }
    prepareDataDir(settings);
    configureDuckdb(settings.duckdb);
    // Before the definitions load: they may import XGBoost, whose OpenMP reads the policy when it loads.
    configureXGBoost({ ompWaitPolicy: settings.ompWaitPolicy });
  } catch (e) {
    err.write(`error: ${errorMessage(e)}\n`);
    return 2;
  }

  // The definitions, loaded and opened on the store: once per command, and again hourly by the daemon.
  const openInstance = async (): Promise<Instance<unknown>> =>
    Instance.open(await loadDefinitions(settings.definitions, { dataDir: settings.dataDir, env: process.env }), { settings });
  let instance: Instance<unknown> | undefined;
  try {
    try {
      instance = await openInstance();
    } catch (e) {
      // The definitions' own configuration (PJM_*) and the storage backend are settings too.
      if (isSettingError(e)) {
        err.write(`error: ${errorMessage(e)}\n`);
        return 2;
      }
      throw e;
    }
    const json = opts.json ?? false;
    switch (command) {
      case 'run':
        return await runCommand(instance, args, opts, executor, settings.store, queueSettings, out, err);
      case 'worker':
        return await workerCommand(instance, executor, settings.store, err);
      case 'status':
        return await statusCommand(instance, args.join(','), json, out);
      case 'verify':
        return await verifyCommand(instance, args.join(','), opts, out);
      case 'show':
        return await showCommand(instance, requireAsset(instance, args), opts.partition, json, out);
      case 'lineage':
        return await lineageCommand(instance, requireAsset(instance, args), opts.partition, depth, json, out);
      case 'runs':
        if (args[0] === 'cancel') return await cancelRunCommand(instance, args[1], out);
        if (args.length > 0) throw new UsageError(`runs takes no argument but \`cancel RUN_ID\`, got ${JSON.stringify(args.join(' '))}.`);
        return await runsCommand(instance, limit, json, out);
      case 'show-run':
        return await showRunCommand(instance, args[0], json, out);
      case 'partitions':
        return await partitionsCommand(instance, args, json, out);
      case 'tick':
        return await onExecutor(instance, executor, settings.store, () => tickCommand(instance!, queueSettings, json, out, err, tickAt));
      case 'daemon': {
        const first = instance;
        // Live definitions end their partitions at the day they were loaded: open them again
        // hourly, on the same store and executor, so a daemon that runs for weeks sees new days.
        const reopen = {
          everyMs: DAEMON_REOPEN_MS,
          open: async () => {
            const next = await openInstance();
            next.useWorkers(first.workers);
            return next;
          },
        };
        return await onExecutor(first, executor, settings.store, () => daemonCommand(first, intervalMs, queueSettings, reopen, json, out, err));
      }
      case 'ticks':
        return await ticksCommand(instance, limit, opts.name, json, out);
      case 'prune': {
        if (!opts['older-than']) throw new UsageError('prune needs --older-than AGE, e.g. --older-than 30d.');
        const records = opts['records-older-than'];
        const options = {
          olderThanMs: ageFlag(opts['older-than'], '--older-than'),
          dryRun: opts['dry-run'],
          ...(records ? { recordsOlderThanMs: ageFlag(records, '--records-older-than') } : {}),
        };
        writeView(out, pruneView, await prune(instance, options), json);
        return 0;
      }
    }
    return 0;
  } catch (e) {
    if (
      e instanceof UsageError ||
      e instanceof PartitionsUsageError ||
      isRuntimeError(e, 'unknown-asset', 'invalid-selection', 'invalid-partition', 'invalid-asset-key', 'invalid-setting')
    ) {
      err.write(`error: ${errorMessage(e)}\n`);
      return 2;
    }
    err.write(`error: ${errorMessage(e)}\n`);
    if (process.env.DEBUG) err.write(`${(e as Error).stack}\n`);
    return 1;
  } finally {
    await instance?.close();
  }
}

/** An age flag's value in ms; a malformed one is a usage error (exit 2) naming the flag. */
function ageFlag(text: string, flag: string): number {
  try {
    return parseAge(text, flag);
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
}

function requireAsset(instance: Instance<unknown>, args: string[]): AssetKey {
  const key = args[0];
  if (!key) throw new UsageError('Name an asset, e.g. `materialize show pjm/model`.');
  if (!instance.graph.has(key)) throw unknownAsset(instance.graph, key);
  return key;
}

async function runCommand(
  instance: Instance<unknown>,
  args: string[],
  opts: { partition?: string; force?: boolean; 'dry-run'?: boolean; json?: boolean; trigger?: string; concurrency?: string },
  executor: ExecutorSettings,
  store: LineageStoreTarget,
  queueSettings: RunQueueSettings,
  out: NodeJS.WriteStream,
  err: NodeJS.WriteStream,
): Promise<number> {
  const selection = args.join(',');
  const concurrency = opts.concurrency === undefined ? undefined : Number(opts.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
    throw new UsageError(`--concurrency must be a whole number >= 1, got ${opts.concurrency}.`);
  const trigger = opts.trigger ?? 'cli';
  if (!isRunTrigger(trigger)) throw new UsageError(`--trigger must be one of ${RUN_TRIGGERS.join(', ')}, got ${JSON.stringify(trigger)}.`);
  const req = { selection, partitions: opts.partition, force: opts.force, trigger, concurrency };
  const prepared = await prepareRun(instance, req);
  if (opts['dry-run']) {
    if (opts.json)
      out.write(
        JSON.stringify({
          counts: prepared.plan.counts,
          steps: prepared.plan.steps.map(({ asset, partition, action, reason }) => ({ asset, partition, action, reason })),
        }) + '\n',
      );
    else {
      for (const line of describePlan(prepared.plan)) out.write(line + '\n');
      const c = prepared.plan.counts;
      out.write(`\n${c.run} to run, ${c.conditional} to run if upstream data changes, ${c.skip} skipped.\n`);
    }
    return 0;
  }
  const renderer = opts.json ? jsonRenderer(out) : out.isTTY ? ttyRenderer(out) : plainRenderer(out);
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      err.write(`\n${signal}: canceling the run; steps in progress stop and nothing half-written is published (again to exit at once)\n`);
      controller.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const queue = executor.kind === 'workers' ? await openWorkerQueue(store) : undefined;
  try {
    const warnings = checkWarnings();
    const onEvent = (e: RunEvent) => {
      warnings.onEvent(e);
      renderer.onEvent(e);
    };
    // Through the store's run queue, behind the runs the UI, the API and the daemon asked for first.
    const outcome = await new RunQueue(instance, queueSettings).run(
      prepared,
      { ...req, onEvent, ...(queue ? { workers: { queue, poolWaitMs: executor.poolWaitS * 1000 } } : {}) },
      { signal: controller.signal, onWaiting: (reason) => err.write(`run ${prepared.runId} queued: ${reason}\n`) },
    );
    if (outcome.kind === 'canceled') {
      err.write(`run ${prepared.runId} was canceled while queued; it never started${outcome.reason ? ` (${outcome.reason})` : ''}\n`);
      return 1;
    }
    const result = outcome.result;
    renderer.close();
    if (!opts.json) {
      for (const line of warnings.summary()) out.write(`${line}\n`);
      for (const f of result.failures) err.write(`  ✗ ${describePartition(f.asset, f.partition)}: ${f.error}\n`);
      await printSummaries(instance, result.runId, out);
    }
    return result.status === 'succeeded' ? 0 : 1;
  } finally {
    await queue?.close();
    renderer.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Runs `command` with the instance's runs on the worker pool when EXECUTOR=workers (automation's runs included). */
async function onExecutor(instance: Instance<unknown>, executor: ExecutorSettings, store: LineageStoreTarget, command: () => Promise<number>): Promise<number> {
  if (executor.kind !== 'workers') return command();
  const queue = await openWorkerQueue(store);
  instance.useWorkers({ queue, poolWaitMs: executor.poolWaitS * 1000 });
  try {
    return await command();
  } finally {
    instance.useWorkers(undefined);
    await queue.close();
  }
}

async function openWorkerQueue(target: LineageStoreTarget): Promise<WorkerQueue> {
  if (target.kind !== 'postgres') throw new RuntimeError('store-config', 'Workers need LINEAGE_STORE=postgres://USER:PASSWORD@HOST:5432/DATABASE.');
  // Imported here, not at the top: `pg` is ~10 % of the start of every other command.
  const { PostgresWorkQueue } = await import('../store/postgres/work-queue.ts');
  return PostgresWorkQueue.open<UnitPayload, UnitResult>(target.url);
}

/** `materialize worker`: runs queued units until SIGTERM (drain) and exits 0. */
async function workerCommand(instance: Instance<unknown>, executor: ExecutorSettings, store: LineageStoreTarget, err: NodeJS.WriteStream): Promise<number> {
  const queue = await openWorkerQueue(store);
  const drain = new AbortController();
  const handBack = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const log = (line: string): void => void err.write(`${new Date().toISOString()} worker ${process.pid}: ${line}\n`);
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!drain.signal.aborted) {
      log(`${signal}: finishing the current unit (up to ${executor.drainTimeoutS} s; again to hand it back at once), then exiting`);
      drain.abort();
      timer = setTimeout(() => handBack.abort(), executor.drainTimeoutS * 1000);
      timer.unref();
    } else handBack.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    log(`claiming units from ${instance.store.location}`);
    const ran = await runWorker(instance, queue, { leaseMs: executor.workerLeaseMs, drain: drain.signal, handBack: handBack.signal, log });
    log(`stopped after ${ran} units`);
    return 0;
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await queue.close();
  }
}

/** Assets may leave a `summary` string in their metadata (a backtest table); print those at the end of the run. */
async function printSummaries(instance: Instance<unknown>, runId: string, out: NodeJS.WriteStream): Promise<void> {
  for (const m of await instance.store.materializationsOfRun(runId)) {
    const summary = m.metadata.summary;
    if (typeof summary === 'string' && summary.trim()) out.write(`\n${describePartition(m.asset, m.partition)}:\n${summary}\n`);
  }
}

async function statusCommand(instance: Instance<unknown>, selection: string, json: boolean, out: NodeJS.WriteStream): Promise<number> {
  writeView(out, statusView, await instance.status(selection), json);
  return 0;
}

async function showCommand(
  instance: Instance<unknown>,
  asset: AssetKey,
  partitionArg: string | undefined,
  json: boolean,
  out: NodeJS.WriteStream,
): Promise<number> {
  const def = instance.graph.get(asset);
  let partition = UNPARTITIONED;
  if (def.partitions) {
    if (!partitionArg) {
      const latest = (await instance.store.history(asset, { limit: 1 }))[0];
      partition = latest?.partition ?? UNPARTITIONED;
    } else partition = parsePartitionArgument(partitionArg, def.partitions, new Date(), await instance.store.dynamicPartitionKeys())[0]!;
  } else if (partitionArg) throw new UsageError(`${asset} is not partitioned; drop --partition.`);
  const current = await instance.store.current(asset, partition);
  const status = (await instance.resolver(new Date(), [asset])).status(asset, partition);
  const record = current && (await instance.store.materialization(current.id));
  const checks = current ? await instance.store.checkResults(current.id) : [];
  const { description, codeVersion, codeVersionIsDerived } = def;
  writeView(out, showView, { asset, partition, description, codeVersion, codeVersionIsDerived, status, current, record, checks }, json);
  return 0;
}

async function lineageCommand(
  instance: Instance<unknown>,
  asset: AssetKey,
  partitionArg: string | undefined,
  depth: number,
  json: boolean,
  out: NodeJS.WriteStream,
): Promise<number> {
  const def = instance.graph.get(asset);
  const partition =
    def.partitions && partitionArg
      ? parsePartitionArgument(partitionArg, def.partitions, new Date(), await instance.store.dynamicPartitionKeys())[0]!
      : def.partitions
        ? ((await instance.store.history(asset, { limit: 1 }))[0]?.partition ?? '')
        : UNPARTITIONED;
  const current = await instance.store.current(asset, partition);
  if (!current) {
    writeView(out, lineageView, { kind: 'never-materialized', asset, partition }, json);
    // Text mode: a lineage that does not exist is a failed lookup; JSON mode has always answered 0.
    return json ? 0 : 1;
  }
  writeView(out, lineageView, { kind: 'lineage', lineage: (await lineageOf(instance.store, current.id, { depth }))! }, json);
  return 0;
}

async function runsCommand(instance: Instance<unknown>, limit: number, json: boolean, out: NodeJS.WriteStream): Promise<number> {
  const [runs, queued] = await Promise.all([instance.store.listRuns({ limit }), instance.store.runQueue({ states: ['queued'] })]);
  writeView(out, runsView, { runs, queued }, json);
  return 0;
}

/** `materialize runs cancel RUN_ID`: a queued run never starts; a running one is stopped where it runs. */
async function cancelRunCommand(instance: Instance<unknown>, id: string | undefined, out: NodeJS.WriteStream): Promise<number> {
  if (!id) throw new UsageError('Name the run to cancel, e.g. `materialize runs cancel 20261127T070000-ab12cd` (see `materialize runs`).');
  const r = await instance.store.cancelQueuedRun(id);
  if (r.canceled) {
    out.write(`canceled run ${id}: it was queued and will not start\n`);
    return 0;
  }
  const run = await instance.store.getRun(id);
  if (r.state === 'unknown' && !run) throw new UsageError(`No run ${id}. See \`materialize runs\` for recent and queued run ids.`);
  if (run?.status === 'running')
    throw new UsageError(
      `Run ${id} is running (${run.trigger}, ${run.host} pid ${run.pid}), not queued: stop it there (SIGTERM, or Cancel in the UI for a UI run).`,
    );
  throw new UsageError(`Run ${id} is not queued (it ${run ? run.status : r.state}); nothing to cancel.`);
}

async function showRunCommand(instance: Instance<unknown>, id: string | undefined, json: boolean, out: NodeJS.WriteStream): Promise<number> {
  if (!id) throw new UsageError('Name a run id, e.g. `materialize show-run 20261127T070000-ab12cd` (see `materialize runs`).');
  const run = await instance.store.getRun(id);
  if (!run) throw new UsageError(`No run ${id}. See \`materialize runs\` for recent run ids.`);
  writeView(out, showRunView, { run, events: await instance.store.events(id) }, json);
  return 0;
}
