import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { refusal } from './api-key.ts';
import { authenticate, type Credential, DEFAULT_RECV_WINDOW } from './auth.ts';
import { type Outcome, type Params, PRIVATE_ENDPOINTS } from './endpoints.ts';
import type { FaultInjector } from './faults.ts';
import { type Instruments, instrumentsInfo, tickersInfo } from './instruments.ts';
import { IP_BAN_TEXT, type IpLimiter } from './ip-limit.ts';
import type { Market } from './market.ts';
import type { OrderBook } from './orders.ts';
import type { Random } from './random.ts';
import type { RateLimiter, RateStatus } from './rate-limit.ts';
import { envelope, RET, type Ret } from './responses.ts';
import type { StrategyBook } from './strategies.ts';
import { STRATEGY_ENDPOINTS } from './strategy-endpoints.ts';
import type { Survivors } from './survivors.ts';
import { type AnswerShapes, isCategory, type RequestRecord } from './types.ts';

const TIME_PATH = '/v5/market/time';
const INSTRUMENTS_PATH = '/v5/market/instruments-info';
const TICKERS_PATH = '/v5/market/tickers';
const MAX_BODY_BYTES = 1 << 20;
// A rate-limit fault looks like a burst that frees again shortly.
const FAULT_RESET_AHEAD_MS = 200;
const JSON_TYPE = 'application/json; charset=utf-8';

/** Everything the HTTP layer reads and changes; owned by index.ts, which exposes it through the Emulator API. */
export interface EmulatorState {
  accounts: Map<string, Credential>;
  book: OrderBook;
  instruments: Instruments;
  market: Market;
  limiter: RateLimiter;
  ipLimiter: IpLimiter;
  survivors: Survivors;
  faults: FaultInjector;
  random: Random;
  latencyMs: number;
  clockSkewMs: number;
  timeoutHoldMs: number;
  requests: RequestRecord[];
  /** Told of each request as it arrives. */
  listeners: Set<(record: RequestRecord) => void>;
  /** Acknowledged cancels take effect this much later. */
  cancelDelayMs?: number;
  strategies: StrategyBook;
  shapes: Required<AnswerShapes>;
}

/** Plays the book forward to `now`: delayed cancels land, then strategies act (they see those cancels). */
export function settleAll(state: EmulatorState, now: number): void {
  state.book.settle(now);
  state.strategies.advance(now);
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** The emulated exchange's clock: the real one shifted by the configured skew. */
export function serverNow(state: EmulatorState): number {
  return Date.now() + state.clockSkewMs;
}

/** Starts the HTTP server on loopback (or `host`) and routes Bybit's paths. */
export async function listen(state: EmulatorState, host: string, port: number): Promise<RunningServer> {
  const timers = new Set<NodeJS.Timeout>();
  // Every deferred action is tracked so that close() can cancel it; the returned function cancels one early.
  const later = (ms: number, action: () => void): (() => void) => {
    if (ms <= 0) {
      action();
      return () => {};
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
    return () => {
      clearTimeout(timer);
      timers.delete(timer);
    };
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.socket.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => handle(state, req, res, Buffer.concat(chunks).toString('utf8'), later));
  });
  // A client that resets its own connection is routine here (faults, aborted requests): nothing to report.
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the emulator has no TCP address');

  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    close: () => {
      closing ??= closeAll(server, timers);
      return closing;
    },
  };
}

function closeAll(server: Server, timers: Set<NodeJS.Timeout>): Promise<void> {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Includes sockets held by 'timeout' faults and requests waiting out their latency.
  server.closeAllConnections();
  return closed;
}

/** What the emulator does with one request; `handle` carries it out after the configured latency. */
type Action =
  | { kind: 'envelope'; outcome: Reply }
  | { kind: 'raw'; status: number; contentType: string; text: string }
  | { kind: 'reset' }
  | { kind: 'hold' };

type Reply = Ret & { result?: unknown; retExtInfo?: unknown; rate?: RateStatus };

interface Incoming {
  req: IncomingMessage;
  method: string;
  path: string;
  /** The signature covers the query string exactly as it travelled, so it is kept raw. */
  rawQuery: string;
  body: string;
  params: Params | undefined;
}

function handle(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  later: (ms: number, action: () => void) => () => void,
): void {
  const method = req.method ?? 'GET';
  const rawUrl = req.url ?? '/';
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  const rawQuery = queryAt === -1 ? '' : rawUrl.slice(queryAt + 1);
  const params = method === 'GET' ? Object.fromEntries(new URLSearchParams(rawQuery)) : parseJson(body);

  const record: RequestRecord = { at: Date.now(), method, path, httpStatus: 0 };
  const apiKey = headerOf(req, 'x-bapi-api-key');
  const uid = apiKey === undefined ? undefined : state.accounts.get(apiKey)?.uid;
  if (apiKey !== undefined) record.apiKey = apiKey;
  if (uid !== undefined) record.uid = uid;
  if (typeof params?.category === 'string') record.category = params.category;
  if (path === '/v5/user/update-sub-api' && typeof params?.apikey === 'string')
    record.subApiKey = params.apikey;
  if (typeof params?.settleCoin === 'string') record.settleCoin = params.settleCoin;
  state.requests.push(record);
  for (const listener of state.listeners) listener(record);

  // The IP limit counts every request, whatever its path or key, before anything else looks at it.
  const action: Action = state.ipLimiter.admit(Date.now())
    ? decide(state, { req, method, path, rawQuery, body, params }, record)
    : { kind: 'raw', status: 403, contentType: 'text/plain; charset=utf-8', text: IP_BAN_TEXT };
  if (action.kind === 'hold') {
    // A client that gives up first must not leave the timer keeping the process alive.
    req.socket.once(
      'close',
      later(state.timeoutHoldMs, () => req.socket.destroy()),
    );
    return;
  }
  if (action.kind === 'envelope') record.retCode = action.outcome.retCode;
  later(state.latencyMs, () => {
    if (res.writableEnded || res.destroyed || req.socket.destroyed) return;
    if (action.kind === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    const { status, headers, text } =
      action.kind === 'raw' ? rawResponse(action) : envelopeResponse(state, action.outcome);
    record.httpStatus = status;
    res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(text)) });
    res.end(text);
  });
}

function decide(state: EmulatorState, incoming: Incoming, record: RequestRecord): Action {
  const { req, method, path, params } = incoming;
  const route = PRIVATE_ENDPOINTS[path] ?? STRATEGY_ENDPOINTS[path];
  const isTime = path === TIME_PATH;
  const isPublic = isTime || path === INSTRUMENTS_PATH || path === TICKERS_PATH;
  if ((!route || route.method !== method) && !(isPublic && method === 'GET')) {
    return { kind: 'raw', status: 404, contentType: 'text/plain; charset=utf-8', text: '404 page not found' };
  }

  const fault = state.faults.draw(path, !isPublic);
  if (fault) record.fault = fault;
  switch (fault) {
    case 'http5xx':
      // A gateway in front of the exchange answers, not the exchange: no envelope, no state change.
      return {
        kind: 'raw',
        status: state.faults.gatewayStatus(),
        contentType: 'text/html',
        text: GATEWAY_PAGE,
      };
    case 'reset':
      return { kind: 'reset' };
    case 'timeout':
      return { kind: 'hold' };
    case 'rateLimit': {
      const category = isCategory(params?.category) ? params.category : 'linear';
      const limit = route ? state.limiter.limitFor(route.limit, category) : 0;
      const rate = { limit, remaining: 0, resetAt: serverNow(state) + FAULT_RESET_AHEAD_MS };
      return { kind: 'envelope', outcome: { ...RET.tooManyVisits, rate } };
    }
    case 'clockSkew':
      return { kind: 'envelope', outcome: faultTimestamp(state, req) };
    case 'invalidKey':
      return { kind: 'envelope', outcome: RET.invalidKey };
    case 'serverError':
      return { kind: 'envelope', outcome: RET.serverError };
    case 'malformed':
      // A proxy or an API change: retCode 0 with a result that lacks its list (and its cursor).
      return { kind: 'envelope', outcome: { ...RET.ok, result: {} } };
  }

  if (path === INSTRUMENTS_PATH) return { kind: 'envelope', outcome: instruments(state, params ?? {}) };
  if (path === TICKERS_PATH) return { kind: 'envelope', outcome: tickers(state, params ?? {}) };
  if (!route) {
    const outcome =
      fault === 'processing'
        ? RET.processing(undefined)
        : { ...RET.ok, result: serverTime(serverNow(state)) };
    return { kind: 'envelope', outcome };
  }

  const now = serverNow(state);
  const payload = method === 'GET' ? incoming.rawQuery : incoming.body;
  const auth = authenticate(req.headers, payload, (key) => state.accounts.get(key), now);
  if (!auth.ok) return { kind: 'envelope', outcome: auth };
  if (params === undefined) return { kind: 'envelope', outcome: RET.params('the body is not a JSON object') };
  settleAll(state, now);
  const refused = refusal(auth.credential.key, {
    method,
    category: params.category,
    remoteAddress: req.socket.remoteAddress,
    now,
  });
  if (refused) return { kind: 'envelope', outcome: refused };
  const outcome: Outcome = route.endpoint(
    {
      uid: auth.credential.uid,
      credential: auth.credential,
      accounts: state.accounts,
      now,
      book: state.book,
      instruments: state.instruments,
      market: state.market,
      limiter: state.limiter,
      survivors: state.survivors,
      random: state.random,
      processing: fault === 'processing',
      cancelDelayMs: state.cancelDelayMs,
      strategies: state.strategies,
      shapes: state.shapes,
    },
    params,
  );
  if (outcome.batchSize !== undefined) record.batchSize = outcome.batchSize;
  if (outcome.cancelled !== undefined) record.cancelled = outcome.cancelled;
  return { kind: 'envelope', outcome };
}

interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

function rawResponse(action: { status: number; contentType: string; text: string }): HttpResponse {
  return { status: action.status, headers: { 'Content-Type': action.contentType }, text: action.text };
}

function envelopeResponse(state: EmulatorState, outcome: Reply): HttpResponse {
  const headers = { 'Content-Type': JSON_TYPE, ...(outcome.rate ? rateHeaders(outcome.rate) : {}) };
  const text = envelope(outcome, outcome.result ?? {}, outcome.retExtInfo ?? {}, serverNow(state));
  return { status: 200, headers, text };
}

const GATEWAY_PAGE = '<html><head><title>Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>';

function rateHeaders(rate: RateStatus): Record<string, string> {
  return {
    'X-Bapi-Limit': String(rate.limit),
    'X-Bapi-Limit-Status': String(rate.remaining),
    'X-Bapi-Limit-Reset-Timestamp': String(rate.resetAt),
  };
}

/** `GET /v5/market/time`'s result: the (skewed) server clock in seconds and nanoseconds. */
function serverTime(now: number): { timeSecond: string; timeNano: string } {
  return { timeSecond: String(Math.floor(now / 1000)), timeNano: `${now}000000` };
}

/** The 10002 a 'clockSkew' fault answers: as if the clocks disagreed by more than the recv window. */
function faultTimestamp(state: EmulatorState, req: IncomingMessage): Ret {
  const timestamp = headerOf(req, 'x-bapi-timestamp') ?? '';
  const recvWindow = headerOf(req, 'x-bapi-recv-window') ?? DEFAULT_RECV_WINDOW;
  return RET.timestamp(timestamp, serverNow(state), recvWindow);
}

/** Public instruments-info: no key, no per-UID limit (it counts toward the IP limit only). */
function instruments(state: EmulatorState, params: Params): Reply {
  const category = params.category;
  if (!isCategory(category)) return RET.params('category');
  const booked = state.book.ordersOf().filter((o) => o.category === category);
  const answer = instrumentsInfo(state.instruments, category, params, booked, state.market);
  if ('invalid' in answer) return RET.params(answer.invalid);
  return { ...RET.ok, result: answer.result };
}

/** Public tickers: no key, no per-UID limit. */
function tickers(state: EmulatorState, params: Params): Reply {
  const category = params.category;
  if (!isCategory(category)) return RET.params('category');
  const booked = state.book.ordersOf().filter((o) => o.category === category);
  const answer = tickersInfo(state.instruments, category, params, booked, state.market);
  if ('invalid' in answer) return RET.params(answer.invalid);
  return { ...RET.ok, result: answer.result };
}

function parseJson(body: string): Params | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Params)
      : undefined;
  } catch {
    return undefined;
  }
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
