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
  readonly skipped?: string;
}

export interface WarmUp {
  readonly done: Promise<WarmUpResult>;
  /** Ends the warm-up early (shutdown); `done` still resolves. */
  stop(): void;
}

/** The node-day the warm-up asks for: the model's first node on the newest validated day. */
function warmUpRequest(deps: ServerDeps): WarmUpResult['request'] | string {
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
    let requests = 0;
    const statuses: Record<string, number> = {};
    const loop = async (): Promise<void> => {
      while (!controller.signal.aborted && performance.now() - started < options.durationMs) {
        const response = await fetch(`${url}/predict`, { method: 'POST', headers, body, signal: controller.signal }).catch(() => undefined);
        if (!response) return;
        await response.arrayBuffer().catch(() => undefined);
        requests++;
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, loop));
    return { requests, statuses, ms: Math.round(performance.now() - started), request };
  };
  return { done: run(), stop: () => controller.abort() };
}
