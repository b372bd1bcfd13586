// A small Bybit V5 REST client: the five endpoints this product needs, signed, paced, retried, and never
// running past the caller's deadline.

import {
  BybitApiError,
  DeadlineExceededError,
  ExchangeUnavailableError,
  OrderNotOpenError,
} from '../errors.ts';
import { classifyRetCode, RetCode } from './codes.ts';
import { type LimitHeaders, plausibleLimits, RateLimitPacer } from './pacer.ts';
import { type Credentials, createSigner, type Signer, signaturePayload } from './sign.ts';
import type {
  BatchItemResult,
  CancelAllParams,
  CancelBatchParams,
  CancelOrderParams,
  Category,
  Endpoint,
  OpenOrdersPage,
  OpenOrdersParams,
  OrderRef,
} from './types.ts';

export const MAINNET_URL = 'https://api.bybit.com';

const defaults = {
  baseUrl: MAINNET_URL,
  recvWindow: 5000,
  requestTimeoutMs: 5000,
  maxAttempts: 5,
  /** Used when a call names no deadline of its own. */
  deadlineMs: 30_000,
  backoffBaseMs: 100,
  backoffCapMs: 2000,
};

/** Below this much time left, an attempt could not complete: give up instead of sending. */
const MIN_ATTEMPT_MS = 25;

export interface BybitClientOptions {
  credentials: Credentials;
  baseUrl?: string;
  recvWindow?: number;
  requestTimeoutMs?: number;
  maxAttempts?: number;
  deadlineMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  pacer?: RateLimitPacer;
}

/**
 * Which queued requests take the shared IP budget first: a kill switch's first-wave cancel-alls, then its
 * verification and stragglers, then routine work (single cancels, scoped cancel-alls, the sweep), then the
 * read-only drill.
 */
export type Priority = 'first-wave' | 'verify' | 'routine' | 'background';

export interface CallOptions {
  /** Epoch ms by which the call must have returned or thrown. */
  deadline?: number;
  /** Place in the IP budget's queue; `routine` when not given. */
  priority?: Priority;
}

interface Envelope {
  retCode: number;
  retMsg: string;
  result: unknown;
  retExtInfo?: { list?: { code: number; msg: string }[] };
}

interface Request {
  endpoint: Endpoint;
  method: 'GET' | 'POST';
  path: string;
  params: object;
  category: Category;
  /** Rate-limit units the request consumes. */
  cost: number;
  signed: boolean;
}

type Attempt =
  | { ok: true; envelope: Envelope }
  | { ok: false; error: Error; retryAfter?: number; transient: boolean };

export class BybitClient {
  readonly apiKey: string;
  readonly pacer: RateLimitPacer;
  private readonly options: Required<Omit<BybitClientOptions, 'credentials' | 'pacer'>>;
  private readonly sign: Signer;
  /** Exchange clock minus ours, learned from /v5/market/time after a 10002. */
  private clockOffsetMs = 0;

  constructor({ credentials, pacer, ...options }: BybitClientOptions) {
    this.apiKey = credentials.apiKey;
    this.sign = createSigner(credentials);
    const now = options.now ?? Date.now;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    this.pacer = pacer ?? new RateLimitPacer({ now, sleep });
    this.options = {
      ...defaults,
      fetch: globalThis.fetch,
      random: Math.random,
      ...stripUndefined(options),
      baseUrl: (options.baseUrl ?? defaults.baseUrl).replace(/\/+$/, ''),
      now,
      sleep,
    };
  }

  /** Cancels one order. Throws OrderNotOpenError when it does not exist or is already cancelled or filled. */
  async cancelOrder(params: CancelOrderParams, call?: CallOptions): Promise<OrderRef> {
    const result = await this.call<OrderRef>(
      { endpoint: 'cancel', method: 'POST', path: '/v5/order/cancel', params, category: params.category },
      call,
    );
    return { orderId: result.orderId, orderLinkId: result.orderLinkId };
  }

  /** Cancels every order of a scope; futures stop at 500 per call (see FUTURES_CANCEL_ALL_CAP). */
  async cancelAll(params: CancelAllParams, call?: CallOptions): Promise<OrderRef[]> {
    const result = await this.call<{ list?: OrderRef[] }>(
      {
        endpoint: 'cancel-all',
        method: 'POST',
        path: '/v5/order/cancel-all',
        params,
        category: params.category,
      },
      call,
    );
    return (result.list ?? []).map(({ orderId, orderLinkId }) => ({ orderId, orderLinkId }));
  }

  /**
   * Cancels up to 20 orders (10 for spot) in one request. The request can succeed while items fail: every
   * item comes back with its own code (0, already gone, over the rate limit, …), aligned with the request.
   */
  async cancelBatch(params: CancelBatchParams, call?: CallOptions): Promise<BatchItemResult[]> {
    const { category, request } = params;
    // Batches cost one unit per order, except option where a request costs one.
    const cost = category === 'option' ? 1 : request.length;
    const envelope = await this.callEnvelope(
      {
        endpoint: 'cancel-batch',
        method: 'POST',
        path: '/v5/order/cancel-batch',
        params,
        category,
        cost,
        signed: true,
      },
      call,
    );
    const answers = (envelope.result as { list?: Partial<BatchItemResult>[] } | null)?.list ?? [];
    const codes = envelope.retExtInfo?.list ?? [];
    return request.map((item, i) => {
      const answer = answers[i];
      const code =
        codes[i] ?? (answer ? { code: 0, msg: 'OK' } : { code: -1, msg: 'no answer for this item' });
      return {
        symbol: item.symbol,
        orderId: answer?.orderId || item.orderId || '',
        orderLinkId: answer?.orderLinkId || item.orderLinkId || '',
        code: Number(code.code),
        msg: this.scrub(String(code.msg)),
      };
    });
  }

  /** One page (up to 50) of open orders, newest first. Pass `nextPageCursor` back as `cursor` for the next. */
  async openOrders(params: OpenOrdersParams, call?: CallOptions): Promise<OpenOrdersPage> {
    const result = await this.call<Partial<OpenOrdersPage>>(
      { endpoint: 'realtime', method: 'GET', path: '/v5/order/realtime', params, category: params.category },
      call,
    );
    return {
      category: params.category,
      list: result.list ?? [],
      nextPageCursor: result.nextPageCursor ?? '',
    };
  }

  /** The exchange's clock in epoch ms (public endpoint, unsigned). */
  async serverTime(call?: CallOptions): Promise<number> {
    const envelope = await this.callEnvelope(
      {
        endpoint: 'time',
        method: 'GET',
        path: '/v5/market/time',
        params: {},
        category: 'linear',
        cost: 1,
        signed: false,
      },
      call,
    );
    const result = envelope.result as { timeNano?: string; timeSecond?: string } | null;
    const fromResult = result?.timeNano
      ? Number(BigInt(result.timeNano) / 1_000_000n)
      : Number(result?.timeSecond) * 1000;
    const time = Number((envelope as { time?: number }).time ?? fromResult);
    if (!Number.isFinite(time)) throw new BybitApiError('time', -1, 'no time in answer', 'rejected');
    return time;
  }

  private async call<T>(request: Omit<Request, 'cost' | 'signed'>, call?: CallOptions): Promise<T> {
    const envelope = await this.callEnvelope({ ...request, cost: 1, signed: true }, call);
    return (envelope.result ?? {}) as T;
  }

  /** Sends with pacing and retries until an answer is final or the deadline leaves no room for another try. */
  private async callEnvelope(request: Request, call?: CallOptions): Promise<Envelope> {
    const { now, sleep, maxAttempts } = this.options;
    const deadline = call?.deadline ?? now() + this.options.deadlineMs;
    let resynced = false;
    let last: Attempt | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (deadline - now() < MIN_ATTEMPT_MS) break;
      last = await this.attempt(request, deadline, attempt);
      if (last.ok) return last.envelope;
      if (last.error instanceof BybitApiError && last.error.kind === 'clock' && !resynced) {
        // One resync and one more try: a clock that is still off after that is a real problem to report.
        resynced = true;
        attempt--;
        await this.resyncClock(deadline).catch(() => undefined);
        continue;
      }
      if (!last.transient || attempt === maxAttempts) throw last.error;
      const backoff =
        this.options.random() *
        Math.min(this.options.backoffCapMs, this.options.backoffBaseMs * 2 ** (attempt - 1));
      const wake = Math.max(last.retryAfter ?? 0, now() + backoff);
      if (wake + MIN_ATTEMPT_MS > deadline) break;
      await sleep(wake - now());
    }
    // Out of time: the last answer says more than "deadline" unless it was itself a timeout.
    if (last && !last.ok) throw last.error;
    throw new DeadlineExceededError(request.endpoint);
  }

  private async attempt(request: Request, deadline: number, attempt: number): Promise<Attempt> {
    const { endpoint } = request;
    const ticket = request.signed ? await this.acquire(request, deadline) : undefined;
    if (ticket instanceof Error) return { ok: false, error: ticket, transient: false };
    let limits: LimitHeaders = {};
    // A request that outlives its own timeout is one more failed attempt; only when the deadline cut it
    // short is the caller out of time (and a scope that still has time must not be given up as if it were).
    const left = deadline - this.options.now();
    const cutByDeadline = left <= this.options.requestTimeoutMs;
    try {
      const timeout = Math.min(this.options.requestTimeoutMs, left);
      const response = await this.send(request, AbortSignal.timeout(Math.max(1, timeout)));
      limits = plausibleLimits(readLimitHeaders(response.headers), this.options.now());
      const text = await response.text();
      if (response.status !== 200) {
        // 429 is overload and 5xx a server fault: both pass. 403 is an IP ban or a blocked region: it won't.
        const transient = response.status === 429 || response.status >= 500;
        const error = new ExchangeUnavailableError(endpoint, attempt, `HTTP ${response.status}`, {
          httpStatus: response.status,
        });
        return { ok: false, error, transient };
      }
      const envelope = parseEnvelope(text);
      if (!envelope) {
        return {
          ok: false,
          error: new ExchangeUnavailableError(endpoint, attempt, 'answer is not a Bybit envelope'),
          transient: true,
        };
      }
      return this.judge(envelope, endpoint, limits);
    } catch (cause) {
      const timedOut =
        cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
      const detail = timedOut ? `no answer within ${this.options.requestTimeoutMs} ms` : networkDetail(cause);
      return {
        ok: false,
        error:
          timedOut && cutByDeadline
            ? new DeadlineExceededError(endpoint, { cause })
            : new ExchangeUnavailableError(endpoint, attempt, detail, { cause }),
        transient: true,
      };
    } finally {
      if (ticket) this.pacer.release(ticket, limits);
    }
  }

  private judge(envelope: Envelope, endpoint: Endpoint, limits: LimitHeaders): Attempt {
    const retCode = Number(envelope.retCode);
    const kind = classifyRetCode(retCode);
    if (kind === 'ok') return { ok: true, envelope };
    const retMsg = this.scrub(String(envelope.retMsg ?? ''));
    if (kind === 'gone')
      return { ok: false, error: new OrderNotOpenError(endpoint, retCode, retMsg), transient: false };
    const error = new BybitApiError(endpoint, retCode, retMsg, kind);
    if (kind !== 'retryable') return { ok: false, error, transient: false };
    // 10006: the window is spent; the exchange says when it resets.
    const retryAfter = retCode === RetCode.rateLimited ? limits.resetAt : undefined;
    return { ok: false, error, transient: true, retryAfter };
  }

  private async acquire(request: Request, deadline: number) {
    try {
      return await this.pacer.acquire(request.endpoint, request.category, request.cost, deadline);
    } catch (error) {
      return error as Error;
    }
  }

  private send(request: Request, signal: AbortSignal): Promise<Response> {
    const { baseUrl, recvWindow, fetch } = this.options;
    const isGet = request.method === 'GET';
    const payload = isGet ? toQueryString(request.params) : JSON.stringify(request.params);
    const url = `${baseUrl}${request.path}${isGet && payload ? `?${payload}` : ''}`;
    const headers: Record<string, string> = {};
    if (!isGet) headers['Content-Type'] = 'application/json';
    if (request.signed) {
      // Sign the exact string that goes on the wire: re-serialising would change it (10004).
      const timestamp = Math.round(this.options.now() + this.clockOffsetMs);
      headers['X-BAPI-API-KEY'] = this.apiKey;
      headers['X-BAPI-TIMESTAMP'] = String(timestamp);
      headers['X-BAPI-RECV-WINDOW'] = String(recvWindow);
      headers['X-BAPI-SIGN-TYPE'] = '2';
      headers['X-BAPI-SIGN'] = this.sign(signaturePayload(timestamp, this.apiKey, recvWindow, payload));
    }
    // Never follow a redirect: fetch would carry the key and signature to whatever host it names. With
    // 'error', a 3xx rejects the fetch, and the attempt fails like any network error.
    return fetch(url, {
      method: request.method,
      headers,
      body: isGet ? undefined : payload,
      signal,
      redirect: 'error',
    });
  }

  private async resyncClock(deadline: number): Promise<void> {
    const sentAt = this.options.now();
    const serverTime = await this.serverTime({ deadline });
    const receivedAt = this.options.now();
    this.clockOffsetMs = serverTime - (sentAt + receivedAt) / 2;
  }

  /** Bybit echoes the signed string (which holds the API key) in some messages: never pass that on. */
  private scrub(message: string): string {
    return message
      .replace(/origin_string\[[^\]]*\]?/g, 'origin_string[redacted]')
      .replaceAll(this.apiKey, '[api key]')
      .slice(0, 300);
  }
}

function parseEnvelope(text: string): Envelope | undefined {
  try {
    const value = JSON.parse(text) as Partial<Envelope> | null;
    if (value && typeof value === 'object' && value.retCode !== undefined) return value as Envelope;
  } catch {
    // fall through: a proxy's HTML page or a truncated body
  }
  return undefined;
}

function readLimitHeaders(headers: Headers): LimitHeaders {
  const number = (name: string) => {
    const value = headers.get(name);
    const parsed = value === null ? Number.NaN : Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  };
  return {
    limit: number('x-bapi-limit'),
    remaining: number('x-bapi-limit-status'),
    resetAt: number('x-bapi-limit-reset-timestamp'),
  };
}

function toQueryString(params: object): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.append(key, String(value));
  }
  return query.toString();
}

function networkDetail(cause: unknown): string {
  const code = (cause as { cause?: { code?: string } })?.cause?.code;
  return code ? `network error ${code}` : 'network error';
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
