// The cached lane of POST /predict: a repeated request (the same body bytes as a request
// answered 200 before, with the same model and validated data) is answered from node:http
// directly, before Koa. A CPU profile of /predict under load (bench/serving.ts, --cpu-prof)
// showed the answer itself (a map lookup) under 3 % of the server's CPU and the rest in what
// surrounds it: Koa's context and response handling, twelve middleware closures and their
// promises, the body stream, JSON.parse and ajv of the same 60 bytes, the router's matching.
// Everything a client or an operator sees stays the same, through the same functions the
// middlewares use: the access-log line, the Prometheus counters, the request id, the
// security headers, bearer auth, the warm-up marking, the answer's bytes and headers
// (test/serving/predict-lane.test.ts compares both lanes' responses, logs and metrics).
//
// Anything else goes to Koa unchanged, and nothing is read from it first unless the whole
// body already arrived: a request that is not exactly POST /predict with a JSON body, a body
// not seen and answered before, a token that does not pass, CORS on with an Origin, a server
// draining (Koa asks for `Connection: close`), a body still arriving (Koa's timeout and
// size limit apply as usual). A body read here and then handed on is given to Koa's jsonBody
// (`preReadBody`), so nothing is read twice.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Lifecycle } from '../lifecycle.ts';
import type { PredictService } from '../predict/service.ts';
import type { RequestSinks } from '../routes.ts';
import type { PredictRequest } from '../schemas.ts';
import { Lru } from '../data/lru.ts';
import type { Auth } from './middleware/auth.ts';
import { requestIdFrom, writeAccessLine } from './middleware/request-context.ts';
import { SECURITY_HEADER_LIST } from './middleware/security-headers.ts';

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

const PRE_READ = Symbol('pre-read body');
type WithPreRead = IncomingMessage & { [PRE_READ]?: string };

/** The body the cached lane already read from `req` (jsonBody uses it instead of the stream). */
export function preReadBody(req: IncomingMessage): string | undefined {
  return (req as WithPreRead)[PRE_READ];
}

/** Bodies larger than this are never looked up (a /predict body is ~60 bytes; batches go to Koa). */
const MAX_BODY = 1024;
const JSON_TYPE = /^application\/json\s*(;|$)/i;
/** Koa's Content-Type for a JSON body, which the answer had when Koa sent it first. */
const ANSWER_TYPE = 'application/json; charset=utf-8';

export interface PredictLaneOptions {
  readonly predictions: PredictService;
  readonly auth: Auth;
  /** The access log and request metrics. */
  readonly sinks: RequestSinks;
  /** Where the server's own warm-up requests write theirs (ServerDeps.warmUpSinks). */
  readonly warmUpSinks: RequestSinks;
  /** When origins are configured, a request with an Origin header takes Koa (the CORS middleware). */
  readonly corsOrigins: readonly string[];
  /** Distinct request bodies remembered. */
  readonly capacity: number;
}

export class PredictLane {
  /** Validated requests by their body text: only bodies that passed validation and were answered 200. */
  readonly #validated: Lru<string, PredictRequest>;
  /** The request metrics of an answer here (always POST /predict 200), for clients and for the warm-up. */
  readonly #record: (started: bigint) => void;
  readonly #recordWarmUp: (started: bigint) => void;
  #answered = 0;

  constructor(private readonly options: PredictLaneOptions) {
    this.#validated = new Lru(options.capacity);
    this.#record = options.sinks.metrics.requestRecorder('POST', '/predict', 200);
    this.#recordWarmUp = options.warmUpSinks.metrics.requestRecorder('POST', '/predict', 200);
  }

  /** Requests this lane answered (the rest went to Koa). */
  get answered(): number {
    return this.#answered;
  }

  /** Called by the /predict route after it answered 200: `text` is the body as read, `request` what it validated to. */
  remember(text: string | undefined, request: PredictRequest): void {
    if (text !== undefined && text.length <= MAX_BODY && !request.explain) this.#validated.set(text, request);
  }

  /** Wraps the Koa handler: cached answers here, everything else to `koa`. */
  wrap(koa: NodeHandler, lifecycle: Lifecycle): NodeHandler {
    return (req, res) => {
      if (!this.#candidate(req, lifecycle)) return koa(req, res);
      const started = process.hrtime.bigint();
      // The parser delivers a body that came with the headers right after this handler
      // returns: one tick later every declared byte is buffered (the parser stops at
      // Content-Length), or the body is still arriving and Koa reads it.
      const length = Number(req.headers['content-length']);
      process.nextTick(() => {
        if (req.readableLength !== length) return koa(req, res);
        const chunk = req.read() as Buffer | null;
        const text = chunk === null ? '' : chunk.toString('utf8');
        if (!this.#answer(req, res, text, lifecycle, started)) {
          (req as WithPreRead)[PRE_READ] = text;
          koa(req, res);
        }
      });
    };
  }

  #candidate(req: IncomingMessage, lifecycle: Lifecycle): boolean {
    const h = req.headers;
    if (req.method !== 'POST' || req.url !== '/predict' || lifecycle.draining) return false;
    if (h['content-type'] === undefined || !JSON_TYPE.test(h['content-type'])) return false;
    if (this.options.corsOrigins.length > 0 && h.origin !== undefined) return false;
    if (this.options.auth.enabled && !this.options.auth.accepts(h.authorization)) return false;
    const length = h['content-length'];
    return length !== undefined && Number(length) > 0 && Number(length) <= MAX_BODY && h['transfer-encoding'] === undefined;
  }

  /** Sends the cached answer to the request whose body is `text`; false when there is none. */
  #answer(req: IncomingMessage, res: ServerResponse, text: string, lifecycle: Lifecycle, started: bigint): boolean {
    const request = this.#validated.get(text);
    if (request === undefined) return false;
    const warmup = lifecycle.isWarmUp(req.headers['x-warmup']);
    const bytes = this.options.predictions.cachedDay(request, { record: !warmup });
    if (bytes === undefined) return false;
    const requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined);
    // The headers Koa's middlewares set on this answer, as one list: writeHead stores them as
    // given, where each setHeader call also lower-cases its name into a map.
    res.writeHead(200, [...SECURITY_HEADER_LIST, 'X-Request-Id', requestId, 'Content-Type', ANSWER_TYPE, 'Content-Length', String(bytes.length)]);
    res.end(bytes);
    this.#answered++;
    (warmup ? this.#recordWarmUp : this.#record)(started);
    writeAccessLine(warmup ? this.options.warmUpSinks.log : this.options.sinks.log, requestId, 'POST', '/predict', 200, started);
    return true;
  }
}
