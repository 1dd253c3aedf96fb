// Warm-up before readiness. A freshly started Node process runs its code unoptimized: under
// heavy load its first seconds had a p99 of 130-320 ms against ~13 ms once warm
// (bench/serving.ts). So before /ready answers 200, the server sends itself /predict requests
// for a while (SERVING_WARMUP_MS), and Kubernetes routes traffic to the pod only after that.
//
// The requests go to the server itself, over loopback, several at a time: warming a second
// instance of the app instead left a p99 of 80-150 ms in the first seconds after /ready
// (the app's own closures and sockets stayed cold), against 16-26 ms this way. They carry the
// process's warm-up secret, which keeps them out of the access log and the Prometheus
// counters. They also leave the newest validated day's features in the cache.
//
// They first ask for up to WARM_DAYS other recent days of the same node, each once: a request
// for a day not asked before takes the path the repeated request skips after its first answer
// (Koa's route, validation, the feature rows from memory, the model, the answer's JSON), which
// otherwise ran its first few dozen times unoptimized after /ready (a new node-day then took
// several times its warm cost). They leave those days' answers in the caches too.
import { PRICE_LAGS } from '../assets/pjm/forecasting.ts';
import { addDays } from '../lib/days.ts';
import type { ServerDeps } from './routes.ts';

export interface WarmUpOptions {
  /** How long to send requests. */
  readonly durationMs: number;
  /** Requests in flight at once (concurrency is part of what gets warm: one at a time was not enough). */
  readonly concurrency?: number;
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
  readonly skipped?: string;
}

export interface WarmUp {
  readonly done: Promise<WarmUpResult>;
  /** Ends the warm-up early (shutdown); `done` still resolves. */
  stop(): void;
}

/** How many other recent days of the node the warm-up asks for once each. */
const WARM_DAYS = 20;

/** Recent days of `node` whose inputs are all validated (the price lags' days and the load's), newest first, not `latest`. */
function otherDays(deps: ServerDeps, node: number, latest: string): string[] {
  const catalog = deps.features.catalog;
  const complete = (day: string): boolean =>
    [0, ...PRICE_LAGS].every((lag) => catalog.prices(node, addDays(day, -lag)) !== undefined) && catalog.load(day) !== undefined && catalog.load(addDays(day, -1)) !== undefined;
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

/** Sends `/predict` requests to the server at `url` for `options.durationMs`, marked with `secret`. */
export function startWarmUp(url: string, secret: string, deps: ServerDeps, options: WarmUpOptions): WarmUp {
  const controller = new AbortController();
  const run = async (): Promise<WarmUpResult> => {
    const started = performance.now();
    const request = warmUpRequest(deps);
    if (typeof request === 'string') return { requests: 0, ms: 0, skipped: request };
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-warmup': secret };
    if (deps.config.apiToken) headers['authorization'] = `Bearer ${deps.config.apiToken}`;
    const body = JSON.stringify(request);
    const others = otherDays(deps, request.node, request.date).map((date) => JSON.stringify({ ...request, date }));
    let next = 0;
    let requests = 0;
    const statuses: Record<string, number> = {};
    const loop = async (): Promise<void> => {
      while (!controller.signal.aborted && performance.now() - started < options.durationMs) {
        const response = await fetch(`${url}/predict`, { method: 'POST', headers, body: others[next++] ?? body, signal: controller.signal }).catch(() => undefined);
        if (!response) return;
        await response.arrayBuffer().catch(() => undefined);
        requests++;
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, loop));
    return { requests, statuses, ms: Math.round(performance.now() - started), request, days: Math.min(next, others.length) };
  };
  return { done: run(), stop: () => controller.abort() };
}
