// Test helpers for the server: a temp DATA_DIR filled by the mini PJM graph, a server on
// 127.0.0.1 with an ephemeral port over it, and a small HTTP client that returns status,
// headers and the parsed body.
import { Instance, materialize, type MaterializeRequest } from '../../../runtime/index.ts';
import { configWith, type ServingConfig } from '../../../serving/config.ts';
import { startServer, type RunningServer, type StartOptions } from '../../../serving/server.ts';
import { tempDir } from '../../support/tmp.ts';
import miniDefs from './mini-pjm.ts';

export { COMED, modelState } from './mini-pjm.ts';

/** A predictable day: every input present, the target known. */
export const GOOD_DAY = '2016-12-20';
/** The day after the data: its load forecast is missing. */
export const MISSING_DAY = '2016-12-21';

export async function openMini(dataDir: string = tempDir('serving')): Promise<Instance<unknown>> {
  return await Instance.open(miniDefs, { dataDir });
}

export async function materializeMini(instance: Instance<unknown>, req: MaterializeRequest = {}): Promise<void> {
  const result = await materialize(instance, { trigger: 'test', ...req });
  if (result.status !== 'succeeded') throw new Error(`materializing the mini PJM graph ${result.status}: ${JSON.stringify(result.counts)}`);
}

export interface TestServer extends RunningServer {
  readonly instance: Instance<unknown>;
  stop(): Promise<void>;
}

export async function startTestServer(instance: Instance<unknown>, overrides: Partial<ServingConfig> = {}, options: StartOptions = {}): Promise<TestServer> {
  const running = await startServer(instance, configWith({ dataDir: instance.dataDir, pollIntervalMs: 50, ...overrides }), options);
  return { ...running, instance, stop: async () => void (await running.close()) };
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any;
}

export async function call(
  url: string,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const res = await fetch(url + path, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Polls `check` every 25 ms until it returns true or `ms` pass. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 5_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`Timed out after ${ms} ms waiting for ${what}.`);
}
