// `materialize tick`, `materialize daemon` and `materialize ticks`: automation from the
// command line (see runtime/automation/tick.ts).
//   materialize tick [--at TIME] [--json]                evaluate schedules, sensors and policies once, run what they request, exit
//   materialize daemon [--interval 30s]        the same in a loop; SIGTERM stops it after the tick in progress
//   materialize ticks [--limit N] [--name N] [--json]   recent ticks: what was evaluated, requested, and why not
import { runDaemon, type DaemonReopen } from '../automation/daemon.ts';
import { newDaemonId, runTick, type TickResult } from '../automation/tick.ts';
import { RuntimeError } from '../errors.ts';
import type { Instance } from '../instance.ts';
import type { TickRecord } from '../store/tick-records.ts';
import type { RunQueueSettings } from '../settings.ts';
import { writeView, type CommandView } from './views.ts';

const INTERVAL = /^(\d+)\s*(ms|s|m)$/;

/** "30s", "500ms", "5m" as milliseconds (at least one second). */
export function parseInterval(text: string): number {
  const m = INTERVAL.exec(text.trim());
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000) : Number.NaN;
  if (!(ms >= 1000)) throw new RuntimeError('invalid-setting', `--interval ${JSON.stringify(text)}: write a duration of at least 1s, such as 30s or 5m.`);
  return ms;
}

function describeTickResult(r: TickResult): string[] {
  const lines: string[] = [];
  for (const t of r.ticks) {
    const counts = `${t.requested.filter((q) => q.outcome === 'launched').length} launched, ${t.requested.filter((q) => q.outcome === 'duplicate').length} duplicate, ${t.requested.filter((q) => q.outcome === 'invalid').length} invalid${t.requested.some((q) => q.outcome === 'exhausted') ? `, ${t.requested.filter((q) => q.outcome === 'exhausted').length} retries exhausted` : ''}`;
    lines.push(`${t.kind} ${t.name}: evaluated ${t.evaluated.length}, ${counts}${t.error ? ` — failed: ${t.error}` : ''}`);
    for (const q of t.requested)
      lines.push(
        `  ${q.outcome.padEnd(9)} ${q.selection}${q.partitions?.length ? ` [${q.partitions.join(',')}]` : ''}${q.runId ? ` run ${q.runId}` : ''} — ${q.reason}${q.detail ? ` (${q.detail})` : ''}`,
      );
    for (const s of t.skipped.slice(0, 10)) lines.push(`  skipped   ${s.subject}: ${s.reason}`);
  }
  for (const run of r.runs)
    lines.push(`run ${run.runId}: ${run.status} (${run.counts.materialized} materialized, ${run.counts.skipped} skipped, ${run.counts.failed} failed)`);
  return lines;
}

/** `--at`: an ISO instant within the last 24 hours (a tick is not a way to replay history or run ahead). */
export function parseTickTime(text: string, now: Date): Date {
  const at = new Date(text.trim());
  const age = now.getTime() - at.getTime();
  if (!/^\d{4}-\d\d-\d\dT/.test(text.trim()) || Number.isNaN(at.getTime()) || age < -60_000 || age > 24 * 3_600_000) {
    throw new RuntimeError('invalid-setting', `--at ${JSON.stringify(text)}: write an ISO instant within the last 24 hours, such as 2025-05-01T18:30:00Z.`);
  }
  return at;
}

export async function tickCommand(
  instance: Instance<unknown>,
  queue: RunQueueSettings,
  json: boolean,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  at?: Date,
): Promise<number> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    err.write(`\n${signal}: canceling the tick's runs; nothing half-written is published\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const r = await runTick(instance, { signal: controller.signal, queue, ...(at ? { now: at } : {}) });
    writeView(out, tickView, r, json);
    return r.runs.every((x) => x.status === 'succeeded') ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function daemonCommand(
  instance: Instance<unknown>,
  intervalMs: number,
  queue: RunQueueSettings,
  reopen: DaemonReopen,
  json: boolean,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const stop = new AbortController();
  const runs = new AbortController();
  const daemonId = newDaemonId();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      err.write(`${signal}: stopping after the tick in progress (again to cancel its runs)\n`);
      stop.abort();
    } else runs.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  err.write(`daemon ${daemonId} on ${instance.store.location}: a tick every ${intervalMs / 1000} s\n`);
  try {
    const { ticks } = await runDaemon(instance, {
      intervalMs,
      daemonId,
      queue,
      stop: stop.signal,
      runSignal: runs.signal,
      onTick: (r) => writeView(out, daemonTickView, r, json),
      onError: (message) => err.write(`${new Date().toISOString()} tick failed: ${message}; trying again next interval\n`),
      reopen,
      onReopen: (r) =>
        err.write(
          r.ok
            ? `${new Date().toISOString()} definitions opened again (every ${reopen.everyMs / 60_000} min: their partitions follow the clock)\n`
            : `${new Date().toISOString()} could not open the definitions again: ${r.error}; ticking on the ones loaded before\n`,
        ),
    });
    err.write(`daemon ${daemonId} stopped after ${ticks} ticks\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function ticksCommand(
  instance: Instance<unknown>,
  limit: number,
  name: string | undefined,
  json: boolean,
  out: NodeJS.WritableStream,
): Promise<number> {
  writeView(out, ticksView, await instance.store.listTicks({ limit, ...(name ? { name } : {}) }), json);
  return 0;
}

/** `materialize tick`: what each schedule, sensor and policy requested, and the runs. */
const tickView: CommandView<TickResult> = {
  json: (r) => JSON.stringify({ ticks: r.ticks, runs: r.runs }) + '\n',
  text(r) {
    const lines = describeTickResult(r);
    return (lines.length ? lines.join('\n') : 'Nothing was due.') + '\n';
  },
};

/** `materialize daemon`: each tick as it ends, stamped with the time. */
const daemonTickView: CommandView<TickResult> = {
  json: (r) => JSON.stringify({ at: new Date().toISOString(), ticks: r.ticks, runs: r.runs }) + '\n',
  text: (r) =>
    describeTickResult(r)
      .map((line) => `${new Date().toISOString()} ${line}\n`)
      .join(''),
};

/** `materialize ticks`: the recent ticks, newest first. */
const ticksView: CommandView<readonly TickRecord[]> = {
  json: (ticks) => JSON.stringify(ticks) + '\n',
  text: (ticks) =>
    ticks.length === 0 ? 'No ticks recorded yet. `materialize tick` evaluates once; `materialize daemon` keeps evaluating.\n' : ticks.map(renderTick).join(''),
};

function renderTick(t: TickRecord): string {
  const at = new Date(t.startedAt).toISOString().replace('T', ' ').slice(0, 19);
  const lines = [
    `#${t.id} ${at} ${t.kind} ${t.name} (${t.daemonId}): evaluated ${t.evaluated.length > 5 ? `${t.evaluated.length} items` : t.evaluated.join(', ') || 'nothing'}`,
  ];
  if (t.error) lines.push(`  failed: ${t.error}`);
  for (const q of t.requested)
    lines.push(
      `  ${q.outcome} ${q.selection}${q.partitions?.length ? ` [${q.partitions.join(',')}]` : ''}${q.runId ? ` run ${q.runId}` : ''}: ${q.reason}${q.detail ? ` (${q.detail})` : ''}`,
    );
  for (const s of t.skipped.slice(0, 10)) lines.push(`  not requested ${s.subject}: ${s.reason}`);
  if (t.skipped.length > 10) lines.push(`  … ${t.skipped.length - 10} more not requested`);
  if (t.requested.length === 0 && t.skipped.length === 0 && !t.error) lines.push('  nothing to request');
  return lines.join('\n') + '\n';
}
