// A small Bybit V5 REST client: the endpoints this product needs, signed, paced, retried, and never
// running past the caller's deadline.

import { randomUUID } from 'node:crypto';
import {
  AnswerTooLargeError,
  BybitApiError,
  DeadlineExceededError,
  ExchangeUnavailableError,
  IpBlockedRegionError,
  IpRateLimitBanError,
  type IpRefusedError,
  OrderNotOpenError,
  RequestNotSentError,
} from '../errors.ts';
import { classifyRetCode, RetCode } from './codes.ts';
import { IpBudget, type IpTicket, type Priority } from './ip-budget.ts';
import { type LimitHeaders, plausibleLimits, RateLimitPacer } from './pacer.ts';
import { type Credentials, createSigner, type Signer, signaturePayload } from './sign.ts';
import { nodeTransport, type Transport, type WireResponse } from './transport.ts';
import type {
  ApiKeyInfo,
  BatchItemResult,
  CancelAllAnswer,
  CancelAllParams,
  CancelBatchParams,
  CancelOrderParams,
  Category,
  CreateOrderParams,
  Endpoint,
  InstrumentsPage,
  InstrumentsParams,
  OpenOrdersPage,
  OpenOrdersParams,
  OrderQueryParams,
  OrderRef,
  OrderState,
  Strategy,
  StrategyListParams,
  StrategyPage,
  SubApiKey,
  SubApiKeySettings,
  SubApiKeysPage,
  SubApiKeysParams,
  Ticker,
  TickersParams,
  UpdateSubApiKeyParams,
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
  /** The wire; node:http(s) by default. Global fetch fits too (tests wrap it). */
  transport?: Transport;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  pacer?: RateLimitPacer;
  /** The container's IP budget, shared by every client; a client of its own when not given (tests, scripts). */
  ipBudget?: IpBudget;
}

/**
 * Which queued requests take the shared IP budget first: a kill switch's first-wave cancel-alls, then its
 * verification and stragglers, then routine work (single cancels, scoped cancel-alls, the sweep), then the
 * read-only drill.
 */
export type { Priority };

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
  /** What a successful answer lacks of its documented fields, if anything (then it is retried, then an error). */
  shape?: Shape;
}

type Shape = (envelope: Envelope) => string | undefined;

type Attempt =
  | { ok: true; envelope: Envelope }
  | { ok: false; error: Error; retryAfter?: number; transient: boolean };

export class BybitClient {
  readonly apiKey: string;
  readonly pacer: RateLimitPacer;
  readonly ipBudget: IpBudget;
  private readonly options: Required<Omit<BybitClientOptions, 'credentials' | 'pacer' | 'ipBudget'>>;
  private readonly sign: Signer;
  /** Exchange clock minus ours, learned from /v5/market/time after a 10002. */
  private clockOffsetMs = 0;

  constructor({ credentials, pacer, ipBudget, ...options }: BybitClientOptions) {
    this.apiKey = credentials.apiKey;
    this.sign = createSigner(credentials);
    const now = options.now ?? Date.now;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    this.pacer = pacer ?? new RateLimitPacer({ now, sleep });
    this.ipBudget = ipBudget ?? new IpBudget({ now, sleep });
    this.options = {
      ...defaults,
      transport: nodeTransport,
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
      {
        endpoint: 'cancel',
        method: 'POST',
        path: '/v5/order/cancel',
        params,
        category: params.category,
        shape: acknowledgement,
      },
      call,
    );
    return { orderId: result.orderId, orderLinkId: result.orderLinkId };
  }

  /**
   * Cancels every order of a scope; futures stop at 500 per call (see FUTURES_CANCEL_ALL_CAP). A spot answer
   * of `{"success": "1"}` alone (the documented spot answer until 2024-02, still sent) acknowledges without
   * naming orders: it comes back as no orders tagged `named: false`, and the listings after it say what is left.
   */
  async cancelAll(params: CancelAllParams, call?: CallOptions): Promise<CancelAllAnswer> {
    const result = await this.call<{ list?: OrderRef[] }>(
      {
        endpoint: 'cancel-all',
        method: 'POST',
        path: '/v5/order/cancel-all',
        params,
        category: params.category,
        shape: cancelAllAnswer(params.category),
      },
      call,
    );
    if (!Array.isArray(result.list)) return Object.assign([], { named: false as const });
    return result.list.map(({ orderId, orderLinkId }) => ({ orderId, orderLinkId }));
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
        shape: batchAnswer,
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
    const result = await this.call<OpenOrdersPage>(
      {
        endpoint: 'realtime',
        method: 'GET',
        path: '/v5/order/realtime',
        params,
        category: params.category,
        shape: listed(true),
      },
      call,
    );
    return { category: params.category, list: result.list, nextPageCursor: result.nextPageCursor };
  }

  /**
   * One page of strategy orders (TWAP, iceberg, chase, POV; `docs/v5/strategy/strategy-list.mdx`). Every
   * filter is optional: no `category` lists every category, no `status` every status. Pass `nextCursor` back
   * as `cursor` for the next page. An answer without `list`, `nextCursor` or an item's id, status, type,
   * category or symbol is an error, never "no strategy".
   */
  async strategies(params: StrategyListParams, call?: CallOptions): Promise<StrategyPage> {
    const result = await this.call<{ list: unknown[]; nextCursor: string }>(
      {
        endpoint: 'strategy-list',
        method: 'GET',
        path: '/v5/strategy/list',
        params,
        category: 'linear',
        shape: strategyPage,
      },
      call,
    );
    return { list: result.list.map((item) => readStrategy(item) as Strategy), nextCursor: result.nextCursor };
  }

  /**
   * Stops a strategy for good (`docs/v5/strategy/stop-strategy.mdx`: "Once stopped, the strategy cannot be
   * resumed"; its unfilled orders are cancelled). The acknowledgement names the strategy; the strategy list
   * says whether it has ended.
   */
  async stopStrategy(strategyId: string, call?: CallOptions): Promise<{ strategyId: string }> {
    const result = await this.call<{ strategyId: string }>(
      {
        endpoint: 'strategy-stop',
        method: 'POST',
        path: '/v5/strategy/stop',
        params: { strategyId },
        category: 'linear',
        shape: named('strategyId'),
      },
      call,
    );
    return { strategyId: result.strategyId };
  }

  /**
   * One page of instruments (public, unsigned, but through the same paced call path and deadline). Linear
   * and inverse list `Trading` symbols unless `status` says otherwise (`docs/v5/market/instrument.mdx`).
   */
  async instrumentsInfo(params: InstrumentsParams, call?: CallOptions): Promise<InstrumentsPage> {
    const envelope = await this.callEnvelope(
      {
        endpoint: 'instruments',
        method: 'GET',
        path: '/v5/market/instruments-info',
        params,
        category: params.category,
        cost: 1,
        signed: false,
        shape: listed(true),
      },
      call,
    );
    const result = envelope.result as InstrumentsPage;
    return { list: result.list, nextPageCursor: result.nextPageCursor };
  }

  /**
   * The latest prices (`GET /v5/market/tickers`, public, unsigned). A ticker without a readable `lastPrice` is
   * an error: a price read as nothing would put an order anywhere.
   */
  async tickers(params: TickersParams, call?: CallOptions): Promise<Ticker[]> {
    const envelope = await this.callEnvelope(
      {
        endpoint: 'tickers',
        method: 'GET',
        path: '/v5/market/tickers',
        params,
        category: params.category,
        cost: 1,
        signed: false,
        shape: tickersListed,
      },
      call,
    );
    return (envelope.result as { list: Ticker[] }).list.map(
      ({ symbol, lastPrice, bid1Price, ask1Price, markPrice }) => ({
        symbol,
        lastPrice,
        ...(bid1Price !== undefined ? { bid1Price } : {}),
        ...(ask1Price !== undefined ? { ask1Price } : {}),
        ...(markPrice !== undefined ? { markPrice } : {}),
      }),
    );
  }

  /**
   * What the key in use may do (`GET /v5/user/query-api`, any permission may call it). An answer lacking
   * the documented fields is an error: a drill must never read "no permissions" into a missing object.
   */
  async apiKeyInfo(call?: CallOptions): Promise<ApiKeyInfo> {
    const result = await this.call<Record<string, unknown>>(
      { endpoint: 'query-api', method: 'GET', path: '/v5/user/query-api', params: {}, category: 'linear' },
      call,
    );
    return readApiKeyInfo(result);
  }

  /**
   * One page (up to 20) of a sub UID's API keys (`GET /v5/user/sub-apikeys`, master key only). The keys are
   * `result.result`, as docs/v5/user/list-sub-apikeys.mdx nests them. An answer without that list or its
   * cursor, or a key without `apiKey` or `readOnly`, is an error; a key whose `ips` or `permissions` cannot
   * be read comes back marked `unreadable`, so that nothing changes it.
   */
  async subApiKeys(params: SubApiKeysParams, call?: CallOptions): Promise<SubApiKeysPage> {
    const result = await this.call<{ result: Record<string, unknown>[]; nextPageCursor: string }>(
      {
        endpoint: 'sub-apikeys',
        method: 'GET',
        path: '/v5/user/sub-apikeys',
        params,
        category: 'linear',
        shape: subApiKeysListed,
      },
      call,
    );
    return { list: result.result.map(readSubApiKey), nextPageCursor: result.nextPageCursor };
  }

  /**
   * Changes a sub-account key's `readOnly` through the master key (`POST /v5/user/update-sub-api`), sending
   * the `ips` it must keep and no `permissions` (left out, they stay). Answers the key's settings after the
   * change; an answer that lacks them, or names another key, is an error.
   */
  async updateSubApiKey(params: UpdateSubApiKeyParams, call?: CallOptions): Promise<SubApiKeySettings> {
    const { apikey, readOnly, ips } = params;
    const result = await this.call<Record<string, unknown>>(
      {
        endpoint: 'update-sub-api',
        method: 'POST',
        path: '/v5/user/update-sub-api',
        params: { apikey, readOnly, ips },
        category: 'linear',
        shape: subApiKeyUpdated(apikey),
      },
      call,
    );
    return {
      apiKey: apikey,
      readOnly: readFlag(result.readOnly) as boolean,
      ips: result.ips as string[],
      permissions: readPermissions(result.permissions) as Record<string, string[]>,
    };
  }

  /**
   * Places an order (`POST /v5/order/create`). For tools and tests only: no Lambda function places orders.
   * An `orderLinkId` is always sent (generated when not given), so that a retry of a request that did land
   * is refused as a duplicate (110072) rather than placing a second order.
   */
  async createOrder(params: CreateOrderParams, call?: CallOptions): Promise<OrderRef> {
    const body = { ...params, orderLinkId: params.orderLinkId ?? randomUUID() };
    const result = await this.call<OrderRef>(
      {
        endpoint: 'create',
        method: 'POST',
        path: '/v5/order/create',
        params: body,
        category: params.category,
        shape: acknowledgement,
      },
      call,
    );
    return { orderId: result.orderId, orderLinkId: result.orderLinkId };
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

  /**
   * One order by `orderId` (wins) or `orderLinkId`, open or closed (Bybit ignores `openOnly` for id queries and
   * keeps the latest 500 closed orders per account and category); undefined when the exchange lists none.
   * An answer without the documented fields throws: a malformed answer must never read as "no such order".
   */
  async orderById(params: OrderQueryParams, call?: CallOptions): Promise<OrderState | undefined> {
    const { category, symbol, orderId, orderLinkId } = params;
    const query = orderId ? { category, symbol, orderId } : { category, symbol, orderLinkId };
    const result = await this.call<unknown>(
      { endpoint: 'realtime', method: 'GET', path: '/v5/order/realtime', params: query, category },
      call,
    );
    const list = (result as { list?: unknown } | null)?.list;
    if (!Array.isArray(list)) throw malformed('no list in the answer');
    const orders = list.map(orderStateOf);
    const wanted = orderId
      ? (o: OrderState) => o.orderId === orderId
      : (o: OrderState) => o.orderLinkId === orderLinkId;
    // Only the order asked for answers; an answer that holds none of it, but others, is no answer.
    const matching = orders.filter(wanted);
    if (orders.length > 0 && matching.length === 0) throw malformed('the answer lists another order');
    // Newest first: a reused orderLinkId names its latest order.
    return matching[0];
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
      last = await this.attempt(request, deadline, attempt, call?.priority ?? 'routine');
      if (last.ok) return last.envelope;
      if (last.error instanceof BybitApiError && last.error.kind === 'clock' && !resynced) {
        // One resync and one more try: a clock that is still off after that is a real problem to report.
        resynced = true;
        attempt--;
        await this.resyncClock(deadline, call?.priority).catch(() => undefined);
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

  private async attempt(
    request: Request,
    deadline: number,
    attempt: number,
    priority: Priority,
  ): Promise<Attempt> {
    const { endpoint } = request;
    const banned = this.ipBudget.refused;
    if (banned) return { ok: false, error: banned, transient: false };
    const ticket = request.signed ? await this.acquire(request, deadline) : undefined;
    if (ticket instanceof Error) return { ok: false, error: ticket, transient: false };
    // The per-UID pacer first, then the IP budget: a unit of the IP window is taken only to be sent at once.
    const ip = await this.acquireIp(priority, deadline);
    if (ip instanceof Error) {
      if (ticket) this.pacer.release(ticket);
      return { ok: false, error: ip, transient: false };
    }
    let limits: LimitHeaders = {};
    let answered = false;
    let unsent = false;
    // A request that outlives its own timeout is one more failed attempt; only when the deadline cut it
    // short is the caller out of time (and a scope that still has time must not be given up as if it were).
    const left = deadline - this.options.now();
    const cutByDeadline = left <= this.options.requestTimeoutMs;
    try {
      const timeout = Math.min(this.options.requestTimeoutMs, left);
      const response = await this.send(request, AbortSignal.timeout(Math.max(1, timeout)));
      answered = true;
      limits = plausibleLimits(readLimitHeaders(response.headers), this.options.now());
      const text = await response.text();
      if (response.status === 403) {
        const error = refusalOf(endpoint, text);
        if (!error) {
          // Not the IP limit nor a blocked region: this request was refused (a WAF, say), not the IP.
          const detail = 'HTTP 403, the request was refused (not for the IP limit)';
          return {
            ok: false,
            error: new ExchangeUnavailableError(endpoint, attempt, detail, { httpStatus: 403 }),
            transient: false,
          };
        }
        this.ipBudget.refuse(error);
        return { ok: false, error: this.ipBudget.refused ?? error, transient: false };
      }
      if (response.status !== 200) {
        // 429 is overload and 5xx a server fault: both pass.
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
      const judged = this.judge(envelope, endpoint, limits);
      const problem = judged.ok ? request.shape?.(envelope) : undefined;
      if (problem) {
        // Fail closed: an answer without its documented fields is never "nothing open" or "cancelled".
        const error = new ExchangeUnavailableError(endpoint, attempt, `malformed answer: ${problem}`);
        return { ok: false, error, transient: true };
      }
      return judged;
    } catch (cause) {
      if (cause instanceof AnswerTooLargeError) {
        // The exchange did answer (and counted the request); what it sent is no envelope.
        answered = true;
        const error = new ExchangeUnavailableError(endpoint, attempt, `malformed answer: ${cause.message}`, {
          cause,
        });
        return { ok: false, error, transient: true };
      }
      if (refusedBeforeSending(cause)) {
        // Nothing left this machine, and another attempt would be refused the same way: final, and free.
        unsent = true;
        const error = new RequestNotSentError(
          endpoint,
          `Node refused it: ${codeOf(cause) ?? 'invalid request'}`,
          {
            cause,
          },
        );
        return { ok: false, error, transient: false };
      }
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
      // Without an answer the request may still be on its way: it may count for up to one more timeout.
      if (unsent) this.ipBudget.giveBack(ip);
      else this.ipBudget.release(ip, answered ? 0 : this.options.requestTimeoutMs);
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

  /** A unit of the IP budget, or why there is none: the IP is refused, or the deadline came first. */
  private async acquireIp(priority: Priority, deadline: number): Promise<IpTicket | Error> {
    try {
      const ip = await this.ipBudget.acquire(this, priority, deadline);
      // A 403 may have landed while this ticket was handed over: then nothing more goes out.
      const refused = this.ipBudget.refused;
      if (!refused) return ip;
      this.ipBudget.release(ip);
      return refused;
    } catch (error) {
      return error as Error;
    }
  }

  private send(request: Request, signal: AbortSignal): Promise<WireResponse> {
    const { baseUrl, recvWindow, transport } = this.options;
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
    // Never follow a redirect: it would carry the key and signature to whatever host it names. A 3xx is
    // an answer that is not 200 (fetch, given 'error', rejects it instead).
    return transport(url, {
      method: request.method,
      headers,
      body: isGet ? undefined : payload,
      signal,
      redirect: 'error',
    });
  }

  private async resyncClock(deadline: number, priority?: Priority): Promise<void> {
    const sentAt = this.options.now();
    const serverTime = await this.serverTime({ deadline, priority });
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

/** The documented fields of a query-api answer, or a rejection naming the first one missing. */
function readApiKeyInfo(result: Record<string, unknown>): ApiKeyInfo {
  const lacking = (field: string) =>
    new BybitApiError('query-api', -1, `answer lacks a valid ${field}`, 'rejected');
  const { readOnly, permissions, ips, uta, deadlineDay, expiredAt, isMaster, parentUid, userID } = result;
  if (readOnly !== 0 && readOnly !== 1) throw lacking('readOnly');
  if (uta !== 0 && uta !== 1) throw lacking('uta');
  if (!isStringList(ips)) throw lacking('ips');
  if (typeof permissions !== 'object' || permissions === null || Array.isArray(permissions))
    throw lacking('permissions');
  const groups: Record<string, string[]> = {};
  for (const [group, granted] of Object.entries(permissions)) {
    if (!isStringList(granted)) throw lacking(`permissions.${group.slice(0, 40)}`);
    groups[group] = granted;
  }
  if (deadlineDay !== undefined && !Number.isFinite(deadlineDay)) throw lacking('deadlineDay');
  if (expiredAt !== undefined && (typeof expiredAt !== 'string' || Number.isNaN(Date.parse(expiredAt))))
    throw lacking('expiredAt');
  if (isMaster !== undefined && typeof isMaster !== 'boolean') throw lacking('isMaster');
  if (parentUid !== undefined && typeof parentUid !== 'string') throw lacking('parentUid');
  if (userID !== undefined && !(typeof userID === 'number' || typeof userID === 'string'))
    throw lacking('userID');
  return {
    readOnly,
    uta,
    ips,
    permissions: groups,
    ...(deadlineDay !== undefined ? { deadlineDay: deadlineDay as number } : {}),
    ...(expiredAt !== undefined ? { expiredAt: expiredAt as string } : {}),
    ...(isMaster !== undefined ? { isMaster } : {}),
    ...(parentUid !== undefined ? { parentUid } : {}),
    ...(userID !== undefined ? { userId: String(userID) } : {}),
  };
}

/**
 * A boolean Bybit writes either way: the key listing documents `readOnly` as `true`/`false`, query-api and
 * update-sub-api as `0`/`1` (and bybit-api types the listing's as `0 | 1`). Anything else: undefined.
 */
function readFlag(value: unknown): boolean | undefined {
  if (value === true || value === 1) return true;
  if (value === false || value === 0) return false;
  return undefined;
}

/** A permissions object (group → granted permissions), or undefined when it is not one. */
function readPermissions(value: unknown): Record<string, string[]> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const groups: Record<string, string[]> = {};
  for (const [group, granted] of Object.entries(value)) {
    if (!isStringList(granted)) return undefined;
    groups[group] = [...granted];
  }
  return groups;
}

/**
 * A listed sub key. `ips` must be a non-empty list: an unbound key is listed as `["*"]`
 * (docs/v5/user/list-sub-apikeys.mdx), and an empty or absent list says nothing we could send back safely.
 */
function readSubApiKey(item: Record<string, unknown>): SubApiKey {
  const created = typeof item.createdAt === 'string' ? Date.parse(item.createdAt) : Number.NaN;
  const key: SubApiKey = {
    apiKey: item.apiKey as string,
    readOnly: readFlag(item.readOnly) as boolean,
    ...(Number.isFinite(created) ? { createdAt: created } : {}),
  };
  const permissions = readPermissions(item.permissions);
  if (!isStringList(item.ips) || item.ips.length === 0) return { ...key, unreadable: 'ips' };
  if (!permissions) return { ...key, ips: [...item.ips], unreadable: 'permissions' };
  return { ...key, ips: [...item.ips], permissions };
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * Bybit documents 403 for the IP limit ("403, access too frequent": docs/v5/rate-limit/rate-limit.mdx) and
 * for US and mainland China addresses (docs/v5/guide.mdx, error.mdx). The region block comes from the CDN
 * in front of the API, whose page says it blocks "your country". Only these refuse the IP; any other 403 (a
 * firewall refusing one request's content, say) refuses that request alone: taking it for the ban would let
 * one odd request close the container for ten minutes.
 */
function refusalOf(endpoint: string, body: string): IpRefusedError | undefined {
  if (/too frequent/i.test(body)) return new IpRateLimitBanError(endpoint);
  if (/countr|region|location/i.test(body)) return new IpBlockedRegionError(endpoint);
  return undefined;
}

function parseEnvelope(text: string): Envelope | undefined {
  try {
    const value = JSON.parse(text) as Partial<Envelope> | null;
    // A retCode that is not a number is no verdict at all: not an envelope.
    if (value && typeof value === 'object' && typeof value.retCode === 'number') return value as Envelope;
  } catch {
    // fall through: a proxy's HTML page or a truncated body
  }
  return undefined;
}

function resultOf(envelope: Envelope): Record<string, unknown> | undefined {
  const { result } = envelope;
  return typeof result === 'object' && result !== null && !Array.isArray(result)
    ? (result as Record<string, unknown>)
    : undefined;
}

/** `result.list` an array and, for paged listings, `result.nextPageCursor` a string. */
function listed(paged: boolean): Shape {
  return (envelope) => {
    const result = resultOf(envelope);
    if (!result) return 'result is missing or not an object';
    if (!Array.isArray(result.list)) return 'result.list is missing or not an array';
    if (paged && typeof result.nextPageCursor !== 'string')
      return 'result.nextPageCursor is missing or not a string';
    return undefined;
  };
}

/** Tickers: `result.list`, each with a symbol and a positive `lastPrice`. */
const tickersListed: Shape = (envelope) => {
  const result = resultOf(envelope);
  if (!result || !Array.isArray(result.list)) return 'result.list is missing or not an array';
  for (const item of result.list as Record<string, unknown>[]) {
    if (typeof item?.symbol !== 'string') return 'a ticker has no symbol';
    if (typeof item.lastPrice !== 'string' || !(Number(item.lastPrice) > 0))
      return `ticker ${item.symbol} has no positive lastPrice`;
  }
  return undefined;
};

/** An acknowledgement names what it acknowledges: `result.<field>` is a string. */
function named(field: string): Shape {
  return (envelope) => {
    const result = resultOf(envelope);
    if (!result) return 'result is missing or not an object';
    if (typeof result[field] !== 'string') return `result.${field} is missing or not a string`;
    return undefined;
  };
}

/** A cancel's acknowledgement names the order it acknowledges. */
const acknowledgement: Shape = named('orderId');

/**
 * cancel-all answers `result.list` (`docs/v5/order/cancel-all.mdx`). Spot may answer `{"success": "1"}`
 * alone: its documented answer until 2024-02, still recorded from Bybit's servers. That is a final
 * acknowledgement, not a malformed answer to send again.
 */
function cancelAllAnswer(category: Category): Shape {
  const withList = listed(false);
  return (envelope) => {
    const problem = withList(envelope);
    if (!problem || category !== 'spot') return problem;
    return resultOf(envelope)?.success === '1' ? undefined : problem;
  };
}

/** A strategy page: `result.list` of readable strategies and `result.nextCursor` a string. */
const strategyPage: Shape = (envelope) => {
  const result = resultOf(envelope);
  if (!result) return 'result is missing or not an object';
  if (!Array.isArray(result.list)) return 'result.list is missing or not an array';
  if (typeof result.nextCursor !== 'string') return 'result.nextCursor is missing or not a string';
  for (const item of result.list) {
    const read = readStrategy(item);
    if (typeof read === 'string') return read;
  }
  return undefined;
};

/** A key listing: `result.result` an array of keys, each naming its `apiKey` and `readOnly`, and a cursor. */
const subApiKeysListed: Shape = (envelope) => {
  const result = resultOf(envelope);
  if (!result) return 'result is missing or not an object';
  const keys = result.result;
  if (!Array.isArray(keys)) return 'result.result is missing or not an array';
  if (typeof result.nextPageCursor !== 'string') return 'result.nextPageCursor is missing or not a string';
  for (const item of keys) {
    const key = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    if (typeof key.apiKey !== 'string' || key.apiKey === '') return 'a key lacks its apiKey';
    if (readFlag(key.readOnly) === undefined) return 'a key lacks a valid readOnly';
  }
  return undefined;
};

/** update-sub-api's answer: the changed key's `readOnly`, `ips` and `permissions`, and no other key's. */
function subApiKeyUpdated(apikey: string): Shape {
  return (envelope) => {
    const result = resultOf(envelope);
    if (!result) return 'result is missing or not an object';
    if (result.apiKey !== undefined && result.apiKey !== apikey) return 'the answer names another key';
    if (readFlag(result.readOnly) === undefined) return 'result.readOnly is missing or not 0 or 1';
    if (!isStringList(result.ips)) return 'result.ips is missing or not a list';
    if (!readPermissions(result.permissions)) return 'result.permissions is missing or malformed';
    return undefined;
  };
}

/**
 * A strategy item, or what it lacks. The docs type `status` and the `…E3` times as integers, and their own
 * example sends the times (and other integers) as strings: a number or a string of digits is read either way.
 */
function readStrategy(item: unknown): Strategy | string {
  if (typeof item !== 'object' || item === null) return 'a strategy is not an object';
  const fields = item as Record<string, unknown>;
  const text = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string) : undefined);
  const strategyId = text('strategyId');
  if (!strategyId) return 'a strategy lacks strategyId';
  const status = integerOf(fields.status);
  if (status === undefined) return `strategy ${strategyId.slice(0, 40)} lacks a status`;
  for (const name of ['strategyType', 'category', 'symbol'] as const) {
    if (text(name) === undefined) return `strategy ${strategyId.slice(0, 40)} lacks ${name}`;
  }
  const createdTimeE3 = integerOf(fields.createdTimeE3);
  return {
    strategyId,
    strategyType: text('strategyType') as string,
    category: text('category') as string,
    symbol: text('symbol') as string,
    status,
    ...(text('side') !== undefined ? { side: text('side') } : {}),
    ...(text('triggerPrice') !== undefined ? { triggerPrice: text('triggerPrice') } : {}),
    ...(createdTimeE3 !== undefined ? { createdTimeE3 } : {}),
  };
}

/** An integer sent as a JSON number or as a string of digits; undefined otherwise. */
function integerOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^-?\d{1,16}$/.test(value)) return Number(value);
  return undefined;
}

/** A batch answer has one result and one code per item (`docs/v5/order/batch-cancel.mdx`). */
const batchAnswer: Shape = (envelope) => {
  const problem = listed(false)(envelope);
  if (problem) return problem;
  if (!Array.isArray(envelope.retExtInfo?.list)) return 'retExtInfo.list is missing or not an array';
  return undefined;
};

function readLimitHeaders(headers: WireResponse['headers']): LimitHeaders {
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

/** The system error code: node:http puts it on the error, fetch on its cause. */
function codeOf(cause: unknown): string | undefined {
  const error = cause as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return [error?.code, error?.cause?.code].find((c): c is string => typeof c === 'string');
}

function networkDetail(cause: unknown): string {
  const code = codeOf(cause);
  return code ? `network error ${code}` : 'network error';
}

/**
 * Node checks a request before it opens or writes anything (a header value with a line break or a character
 * outside Latin-1, an invalid URL or method): these codes never come from the network.
 */
function refusedBeforeSending(cause: unknown): boolean {
  return /^ERR_(INVALID_|HTTP_INVALID_|UNESCAPED_CHARACTERS)/.test(codeOf(cause) ?? '');
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const ORDER_STATE_FIELDS = [
  'orderId',
  'orderLinkId',
  'symbol',
  'orderStatus',
  'qty',
  'cumExecQty',
  'leavesQty',
  'updatedTime',
] as const;

/** An order of a realtime answer, with every field `docs/v5/order/open-order.mdx` documents that we use. */
function orderStateOf(item: unknown): OrderState {
  const fields = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
  const missing = ORDER_STATE_FIELDS.filter((name) => typeof fields[name] !== 'string');
  if (missing.length > 0 || fields.orderStatus === '' || fields.orderId === '')
    throw malformed(`an order lacks ${missing.join(', ') || 'orderId or orderStatus'}`);
  const text = (name: (typeof ORDER_STATE_FIELDS)[number]) => fields[name] as string;
  return {
    orderId: text('orderId'),
    orderLinkId: text('orderLinkId'),
    symbol: text('symbol'),
    orderStatus: text('orderStatus'),
    qty: text('qty'),
    cumExecQty: text('cumExecQty'),
    leavesQty: text('leavesQty'),
    updatedTime: text('updatedTime'),
  };
}

function malformed(detail: string): BybitApiError {
  return new BybitApiError('realtime', -1, `malformed answer: ${detail}`, 'rejected');
}
