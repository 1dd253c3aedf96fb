// Renderers of run events for the terminal: a live per-asset view when stdout
// is a TTY, plain lines otherwise, JSON lines with --json. Each is a listener
// over the same typed events.
import { eventMessage, formatMs, type RunEvent, type RunEventListener } from '../events.ts';
import { EMPTY_RUN_FOLD, foldRun } from '../run-fold.ts';

export interface Renderer {
  readonly onEvent: RunEventListener;
  /** Stops any redraw timer and leaves the final frame on screen. */
  close(): void;
}

export function jsonRenderer(out: NodeJS.WritableStream): Renderer {
  const lines = batchedLines(out);
  return { onEvent: (e) => lines.write(JSON.stringify(e) + '\n'), close: lines.flush };
}

export function plainRenderer(out: NodeJS.WritableStream): Renderer {
  const lines = batchedLines(out);
  return {
    onEvent: (e) => {
      if (e.type === 'log' && e.level === 'debug') return;
      lines.write(`${new Date(e.ts).toISOString().slice(11, 19)} ${eventMessage(e)}\n`);
    },
    close: lines.flush,
  };
}

/**
 * The lines of one turn of the event loop written to `out` at once, at the end of that turn
 * (and at `flush`): a run's events come in bursts (a no-op run of 1,000 assets emits over a
 * thousand skips at once), and a write per line was a system call per line, ~10 % of such a
 * run's CPU. Readers still get each event within the turn it happened in.
 */
function batchedLines(out: NodeJS.WritableStream): { write(line: string): void; flush(): void } {
  let pending: string[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const flush = (): void => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    out.write(text);
  };
  return {
    write(line) {
      pending.push(line);
      scheduled ??= setImmediate(flush);
    },
    flush,
  };
}

/** Live view: one line per asset with state, elapsed time and a progress bar for partition backfills. */
export function ttyRenderer(out: NodeJS.WriteStream): Renderer {
  let fold = EMPTY_RUN_FOLD;
  /** Per asset, the last thing that happened to it, in words. */
  const last = new Map<string, string>();
  const notes: string[] = [];
  let drawn = 0;
  let header = '';
  const draw = () => {
    const frame: string[] = [header];
    for (const [asset, l] of fold.assets) {
      const state = l.failed + l.blocked > 0 ? '✗' : l.done === l.planned ? '✓' : l.running > 0 ? '…' : ' ';
      const elapsed = l.startedAt !== null ? formatMs((l.endedAt ?? Date.now()) - l.startedAt) : '';
      const bar = l.planned > 1 ? ` ${progressBar(l.done / l.planned, 20)} ${l.done}/${l.planned}` : '';
      frame.push(`${state} ${asset.padEnd(28)} ${elapsed.padStart(8)}${bar}  ${last.get(asset) ?? ''}`.slice(0, (out.columns ?? 120) - 1));
    }
    let text = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const n of notes.splice(0)) text += `\x1b[2K${n}\n`;
    text += frame.map((f) => `\x1b[2K${f}`).join('\n') + '\n';
    out.write(text);
    drawn = frame.length;
  };
  const timer = setInterval(draw, 100);
  timer.unref();
  const onEvent = (e: RunEvent) => {
    fold = foldRun([e], fold);
    if (e.type === 'run_started') {
      header = eventMessage(e);
      return;
    }
    if (e.type === 'run_finished') {
      draw();
      out.write(eventMessage(e) + '\n');
      return;
    }
    if (!('asset' in e) || !e.asset || !fold.assets.has(e.asset)) return;
    if (e.type === 'step_failed' || e.type === 'step_blocked' || e.type === 'step_retrying') notes.push(eventMessage(e));
    if (e.type !== 'log' || e.level !== 'debug') last.set(e.asset, eventMessage(e).replace(/^[^:]*: /, ''));
  };
  return {
    onEvent,
    close() {
      clearInterval(timer);
    },
  };
}

/** A single progress line for a long check (`verify`): a bar redrawn in place on a TTY, nothing otherwise. */
export interface ProgressLine {
  update(done: number, total: number): void;
  /** Draws the last state and ends the line. */
  close(): void;
}

export function progressLine(out: NodeJS.WriteStream, label: string): ProgressLine {
  if (!out.isTTY) return { update() {}, close() {} };
  let state = { done: 0, total: 0 };
  let last = 0;
  const started = Date.now();
  const draw = () => {
    const { done, total } = state;
    const bar = progressBar(total === 0 ? 1 : done / total, 30);
    out.write(`\r\x1b[2K${label} ${bar} ${done}/${total} ${formatMs(Date.now() - started)}`.slice(0, (out.columns ?? 120) - 1));
  };
  return {
    update(done, total) {
      state = { done, total };
      // At most ten redraws a second: a verify of 13,000 files would otherwise spend its time drawing.
      const now = Date.now();
      if (now - last >= 100 || done === total) {
        last = now;
        draw();
      }
    },
    close() {
      draw();
      out.write('\n');
    },
  };
}

export function progressBar(fraction: number, width: number): string {
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}
