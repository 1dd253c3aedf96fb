// How much work one prediction request may ask for, and how long work keeps the event loop.
// The unit is a node-day (24 rows predicted by every ensemble member). An explained
// node-day costs EXPLAIN_COST units: XGBoost's SHAP values take ~100 ms per node-day for the
// production ensemble on one core, against well under 1 ms for the prediction from cached
// features, and the answer is ~25 times larger (~220 KB). A request over WORK_LIMIT gets a
// 422 naming the limit and how to split it; within it, long work yields to the event loop
// between node-days and stops when the request's signal aborts (timeout, client gone, drain).
import { setImmediate as nextTurn } from 'node:timers/promises';
import { HttpError } from '../http/errors.ts';

/** Units of work one request may ask for: 500 node-days, or 20 explained ones. */
export const WORK_LIMIT = 500;
/** What an explained node-day (or 24 explained feature rows) costs, in plain node-days. */
export const EXPLAIN_COST = 25;
/** Feature rows that count as one node-day. */
export const ROWS_PER_NODE_DAY = 24;

const explainedMax = Math.floor(WORK_LIMIT / EXPLAIN_COST);

function overLimit(asked: string, cost: number, split: string): HttpError {
  return new HttpError(
    422,
    'work_limit_exceeded',
    `The request asks for ${asked}, costing ${cost} units of work; the limit is ${WORK_LIMIT} per request. Split it: ${split}.`,
    { limit: WORK_LIMIT, cost, explainCost: EXPLAIN_COST },
  );
}

/** Throws a 422 when nodes × dates (explain counted) is over the limit. */
export function checkBatchWork(nodes: number, dates: number, explain: boolean): void {
  const nodeDays = nodes * dates;
  const cost = nodeDays * (explain ? EXPLAIN_COST : 1);
  if (cost <= WORK_LIMIT) return;
  const asked = `${nodeDays} node-days${explain ? ' with explain' : ''} (${nodes} nodes × ${dates} dates${explain ? `, each explained node-day counting ${EXPLAIN_COST}` : ''})`;
  throw overLimit(
    asked,
    cost,
    explain ? `at most ${explainedMax} explained node-days, or ${WORK_LIMIT} without explain, per request` : `at most ${WORK_LIMIT} node-days per request`,
  );
}

/** Throws a 422 when caller-supplied feature rows (explain counted) are over the limit. */
export function checkRowsWork(rows: number, explain: boolean): void {
  const cost = Math.ceil((rows * (explain ? EXPLAIN_COST : 1)) / ROWS_PER_NODE_DAY);
  if (cost <= WORK_LIMIT) return;
  const asked = `${rows} feature rows${explain ? ' with explain' : ''} (${ROWS_PER_NODE_DAY} rows count as one node-day${explain ? `, ${EXPLAIN_COST} with explain` : ''})`;
  throw overLimit(asked, cost, `at most ${explainedMax * ROWS_PER_NODE_DAY} explained rows, or ${WORK_LIMIT * ROWS_PER_NODE_DAY} without explain, per request`);
}

/**
 * Lets timers, other requests and the drain run (one turn of the event loop), then throws
 * the request's abort reason if it was aborted meanwhile. Called between units of work.
 */
export async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  await nextTurn();
  signal?.throwIfAborted();
}
