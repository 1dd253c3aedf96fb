// Warm-up before readiness. A freshly started Node process runs its code unoptimized: under
// heavy load its first seconds had a p99 of 130-320 ms against ~13 ms once warm
// (bench/serving.ts). So before /ready answers 200, the server sends itself /predict requests,
// and Kubernetes routes traffic to the pod only after that.
//
// The requests go to the server itself, over loopback, several at a time: warming a second
// instance of the app instead left a p99 of 80-150 ms in the first seconds after /ready
// (the app's own closures and sockets stayed cold), against 16-26 ms this way. They carry the
// process's warm-up secret: their access lines and request metrics go to a throwaway logger
// and registry (`ServerDeps.warmUpSinks`), so the code that writes them is warm too while the
// real log and /metrics show only clients' requests. They also leave the newest validated
// day's features in the cache.
//
// The warm-up is a number of requests, not a time: a warm-up that ran for a fixed 2 s sent
// 44 requests on a loaded machine (most of the time went to the first request's data read),
// and the first seconds after /ready then ran cold. It first asks for up to WARM_DAYS other
// recent days of the same node, each once: a request for a day not asked before takes the path
// the repeated request skips after its first answer (Koa's route, validation, the feature rows
// from memory, the model, the answer's JSON), which otherwise ran its first few dozen times
// unoptimized after /ready. Then it repeats the newest day's request WARM_REPEATS times (the
// cached lane, serving/http/predict-lane.ts, with its access line and metrics).
// SERVING_WARMUP_MS bounds the whole: past it the server says ready, warm or not (the summary
// says it was cut short).
import { Agent, request as httpRequest } from 'node:http';
import { PRICE_LAGS } from '../assets/pjm/forecasting.ts';
import { addDays } from '../lib/days.ts';
import type { ServerDeps } from './routes.ts';

export interface WarmUpOptions {
  /** The longest the warm-up may take. */
  readonly maxMs: number;
  /** Requests in flight at once (concurrency is part of what gets warm: one at a time was not enough). */
  readonly concurrency?: number;
  /** Answers of the repeated request to wait for (default WARM_REPEATS). */
  readonly repeats?: number;
}

export interface WarmUpResult {
  readonly requests: number;
  /** Responses by HTTP status (all 200 unless the chosen node-day cannot be forecast). */
  readonly statuses?: Readonly<Record<string, number>>;
  readonly ms: number;
  /** The request sent, or why there was none (no model yet, no validated data). */
  readonly request?: { readonly node: number; readonly market: string; readonly date: string };
  /** Other days of that node asked for once each, before the repeated request. */
  readonly days?: number;
  /** True when SERVING_WARMUP_MS (or a shutdown) ended the warm-up before it sent all its requests. */
  readonly cutShort?: boolean;
  readonly skipped?: string;
}

export interface WarmUp {
  readonly done: Promise<WarmUpResult>;
  /** Ends the warm-up early (shutdown); `done` still resolves. */
  stop(): void;
}

/** How many other recent days of the node the warm-up asks for once each. */
const WARM_DAYS = 20;
/** How many times the warm-up repeats its request (the cached lane): enough for V8 to optimize that path. */
export const WARM_REPEATS = 3_000;

/** Recent days of `node` whose inputs are all validated (the price lags' days and the load's), newest first, not `latest`. */
function otherDays(deps: ServerDeps, node: number, latest: string): string[] {
  const catalog = deps.features.catalog;
  const complete = (day: string): boolean =>
    [0, ...PRICE_LAGS].every((lag) => catalog.prices(node, addDays(day, -lag)) !== undefined) &&
    catalog.load(day) !== undefined &&
    catalog.load(addDays(day, -1)) !== undefined;
  const days = [...new Set(catalog.latestPrices(WARM_DAYS + PRICE_LAGS.length + 8).map((p) => p.day))].reverse();
  return days.filter((d) => d !== latest && complete(d)).slice(0, WARM_DAYS);
}

/** The node-day the warm-up asks for: the model's first node on the newest validated day. */
function warmUpRequest(deps: ServerDeps): NonNullable<WarmUpResult['request']> | string {
  const served = deps.models.current();
  if (!served) return 'no model is loaded yet';
  const node = Object.keys(served.model.transform.byNode)[0];
  const date = deps.features.catalog.latestPrices(1)[0]?.day;
  if (node === undefined || date === undefined) return 'no validated prices to build features from';
  return { node: Number(node), market: served.sidecar.market, date };
}

/** Sends `/predict` requests to the server at `url`, marked with `secret`, until they are all answered or `options.maxMs` passes. */
export function startWarmUp(url: string, secret: string, deps: ServerDeps, options: WarmUpOptions): WarmUp {
  const controller = new AbortController();
  const concurrency = options.concurrency ?? 8;
  // node:http's client rather than fetch: it runs in the server's process, and fetch cost it more CPU per request than the answer.
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const run = async (): Promise<WarmUpResult> => {
    const started = performance.now();
    const request = warmUpRequest(deps);
    if (typeof request === 'string') return { requests: 0, ms: 0, skipped: request };
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-warmup': secret };
    if (deps.config.apiToken) headers['authorization'] = `Bearer ${deps.config.apiToken}`;
    const body = JSON.stringify(request);
    const others = otherDays(deps, request.node, request.date).map((date) => JSON.stringify({ ...request, date }));
    const total = others.length + (options.repeats ?? WARM_REPEATS);
    const deadline = setTimeout(() => controller.abort(), options.maxMs);
    let next = 0;
    let requests = 0;
    const statuses: Record<string, number> = {};
    const post = (text: string): Promise<number | undefined> =>
      new Promise((resolve) => {
        const req = httpRequest(
          `${url}/predict`,
          { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(text)) }, signal: controller.signal },
          (res) => {
            res.resume();
            res.once('end', () => resolve(res.statusCode));
            res.once('error', () => resolve(undefined));
          },
        );
        req.once('error', () => resolve(undefined));
        req.end(text);
      });
    const loop = async (): Promise<void> => {
      while (!controller.signal.aborted && next < total) {
        const i = next++;
        const status = await post(others[i] ?? body);
        if (status === undefined) return;
        requests++;
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    };
    // Each loop takes the next request: the other days (each once) come first, then the repeats.
    await Promise.all(Array.from({ length: concurrency }, loop));
    clearTimeout(deadline);
    agent.destroy();
    return { requests, statuses, ms: Math.round(performance.now() - started), request, days: Math.min(next, others.length), cutShort: requests < total };
  };
  return { done: run(), stop: () => controller.abort() };
}
