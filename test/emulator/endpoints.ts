import { apiKeyInfo } from './api-key.ts';
import type { Credential } from './auth.ts';
import { type Instruments, NO_CANCEL_PHASES } from './instruments.ts';
import { breaksRules, type Market } from './market.ts';
import {
  CLOSED_KEPT,
  inScope,
  isAfter,
  isOpen,
  newestFirst,
  type OrderBook,
  type PageKey,
  type Scope,
  type StoredOrder,
} from './orders.ts';
import type { Random } from './random.ts';
import type { RateLimiter, RateStatus } from './rate-limit.ts';
import { RET, type Ret } from './responses.ts';
import type { StrategyBook } from './strategies.ts';
import { subApiKeys, updateSubApiKey } from './sub-keys.ts';
import type { Survivors } from './survivors.ts';
import { deriveCoins } from './symbols.ts';
import {
  type AnswerShapes,
  type Category,
  isCategory,
  isOrderKind,
  type OrderKind,
  type RateLimitedEndpoint,
} from './types.ts';

// Documented limits.
const FUTURES_CANCEL_ALL_CAP = 500;
const BATCH_MAX: Record<Category, number> = { linear: 20, inverse: 20, option: 20, spot: 10 };
const PAGE_DEFAULT = 20;
const PAGE_MAX = 50;

export type Params = Record<string, unknown>;

/** What a private endpoint needs from the emulator for one authenticated request. */
export interface EndpointContext {
  uid: string;
  credential: Credential;
  /** Every key the exchange holds, by apiKey (a master manages its sub-accounts' keys). */
  accounts: ReadonlyMap<string, Credential>;
  now: number;
  book: OrderBook;
  instruments: Instruments;
  /** Last prices and each instrument's trading rules. */
  market: Market;
  limiter: RateLimiter;
  survivors: Survivors;
  random: Random;
  /** A 'processing' fault hit this request: validate and charge it, then answer "processing" instead of acting. */
  processing: boolean;
  /** Acknowledged cancels take effect this much later (0: at once). */
  cancelDelayMs?: number;
  strategies: StrategyBook;
  /** The answer variants in force. */
  shapes: Required<AnswerShapes>;
}

export interface Outcome extends Ret {
  result: unknown;
  retExtInfo: unknown;
  rate?: RateStatus;
  batchSize?: number;
  /** Orders a cancel-all cancelled (for tests: a repeat past Bybit's 500 shows as a second call). */
  cancelled?: number;
}

export type Endpoint = (ctx: EndpointContext, params: Params) => Outcome;

/** `POST /v5/order/cancel`: one order by orderId (wins) or orderLinkId. */
export const cancelOrder: Endpoint = (ctx, params) => {
  const category = params.category;
  if (!isCategory(category)) return fail(RET.params('category'));
  const rate = ctx.limiter.take(ctx.uid, 'cancel', category, 1, ctx.now);
  if (rate.granted === 0) return fail(RET.tooManyVisits, rate);

  const symbol = text(params.symbol);
  const ref = { orderId: text(params.orderId), orderLinkId: text(params.orderLinkId) };
  if (!symbol) return fail(RET.params('symbol'), rate);
  if (!ref.orderId && !ref.orderLinkId) return fail(RET.params('orderId or orderLinkId'), rate);
  // orderFilter is spot only; there an order is found only under its own kind (default: plain orders).
  const filter = category === 'spot' ? orderFilter(params.orderFilter, 'Order') : 'any';
  if (filter === undefined) return fail(RET.params('orderFilter'), rate);
  if (ctx.processing) return fail(RET.processing(category), rate);

  // A trade that wins the race lands first; "you can only cancel unfilled or partially filled orders"
  // (docs/v5/order/cancel-order.mdx), so a filled order answers as not found (110001 / 170213).
  const raced = ctx.book.find(ctx.uid, category, symbol, ref);
  if (raced?.fillOnCancel && isOpen(raced)) {
    const { qty } = raced.fillOnCancel;
    raced.fillOnCancel = undefined;
    ctx.book.fill(raced, qty, ctx.now);
  }
  const order = ctx.book.findOpen(ctx.uid, category, symbol, ref);
  if (!order || (filter !== 'any' && order.kind !== filter)) return fail(RET.notFound(category), rate);
  const refusal = uncancellable(ctx, order);
  if (refusal) return fail(refusal, rate);
  acknowledgeCancel(ctx, order);
  return ok({ orderId: order.orderId, orderLinkId: order.orderLinkId }, {}, rate);
};

/** `POST /v5/order/cancel-all`: everything in a scope, with Bybit's per-category defaults and caps. */
export const cancelAll: Endpoint = (ctx, params) => {
  const category = params.category;
  if (!isCategory(category)) return fail(RET.params('category'));
  const rate = ctx.limiter.take(ctx.uid, 'cancel-all', category, 1, ctx.now);
  if (rate.granted === 0) return fail(RET.tooManyVisits, rate);

  const futures = category === 'linear' || category === 'inverse';
  const scope = pickScope(params);
  if (futures && !scope) return fail(RET.params('symbol, baseCoin or settleCoin is required'), rate);
  if (category === 'spot' && scope?.settleCoin)
    return fail(RET.params('settleCoin is not supported for spot'), rate);
  // Spot cancels plain orders unless told otherwise; the other categories cancel every kind by default.
  const filter = cancelAllFilter(category, params.orderFilter);
  if (filter === undefined) return fail(RET.params('orderFilter'), rate);
  const stopOrderType = text(params.stopOrderType);
  const stopFilter = text(params.orderFilter) === 'StopOrder';
  if (stopOrderType !== undefined && !(futures && stopFilter && stopOrderType === 'Stop')) {
    return fail(RET.params('stopOrderType=Stop needs a linear/inverse orderFilter=StopOrder'), rate);
  }
  if (ctx.processing) return fail(RET.processing(category), rate);

  let targets = ctx.book.openOrders(ctx.uid, category).filter(
    (o) =>
      inScope(o, scope ?? {}) &&
      filter(o.kind) &&
      (stopOrderType === undefined || o.stopOrderType === stopOrderType) &&
      // What Bybit will not cancel now stays, silently: a cancel-all does not fail over it.
      uncancellable(ctx, o) === undefined,
  );
  // Bybit picks 500 at random when there are more; callers repeat while a call returns 500.
  if (futures && targets.length > FUTURES_CANCEL_ALL_CAP) {
    targets = pick(targets, FUTURES_CANCEL_ALL_CAP, ctx.random).sort(newestFirst);
  }
  for (const order of targets) acknowledgeCancel(ctx, order);
  // Spot's documented answer until 2024-02 (and still recorded from Bybit): `success` alone, no list.
  if (category === 'spot' && ctx.shapes.spotCancelAll === 'successOnly')
    return ok({ success: '1' }, {}, rate);
  const list = targets.map((o) => ({ orderId: o.orderId, orderLinkId: o.orderLinkId }));
  return { ...ok({ list, success: '1' }, {}, rate), cancelled: list.length };
};

/**
 * `POST /v5/order/cancel-batch`: per-item outcomes aligned with the request; retCode stays 0 when items fail.
 * Linear, inverse and spot spend one unit per item, option one per request; items past the budget fail alone.
 */
export const cancelBatch: Endpoint = (ctx, params) => {
  const category = params.category;
  if (!isCategory(category)) return fail(RET.params('category'));
  const items = params.request;
  if (!Array.isArray(items) || items.length === 0) {
    return fail(RET.params('request'), ctx.limiter.peek(ctx.uid, 'cancel-batch', category, ctx.now));
  }
  const batchSize = items.length;
  if (batchSize > BATCH_MAX[category]) {
    const rate = ctx.limiter.peek(ctx.uid, 'cancel-batch', category, ctx.now);
    return { ...fail(RET.params(`at most ${BATCH_MAX[category]} orders per batch`), rate), batchSize };
  }
  const units = category === 'option' ? 1 : batchSize;
  const rate = ctx.limiter.take(ctx.uid, 'cancel-batch', category, units, ctx.now);
  if (rate.granted === 0) return { ...fail(RET.tooManyVisits, rate), batchSize };
  const allowed = category === 'option' ? batchSize : rate.granted;

  const list: object[] = [];
  const codes: { code: number; msg: string }[] = [];
  items.forEach((raw: unknown, index) => {
    const item: Params = typeof raw === 'object' && raw !== null ? (raw as Params) : {};
    const symbol = text(item.symbol);
    const ref = { orderId: text(item.orderId), orderLinkId: text(item.orderLinkId) };
    const outcome = ((): { ret: Ret; order?: StoredOrder } => {
      if (index >= allowed) return { ret: RET.tooManyVisits };
      if (!symbol || (!ref.orderId && !ref.orderLinkId))
        return { ret: RET.params('symbol and orderId or orderLinkId') };
      if (ctx.processing) return { ret: RET.processing(category) };
      const order = ctx.book.findOpen(ctx.uid, category, symbol, ref);
      // A batch item has no orderFilter: on spot it reaches plain orders only, as a single cancel without one.
      if (!order || (category === 'spot' && order.kind !== 'Order')) return { ret: RET.notFound(category) };
      const refusal = uncancellable(ctx, order);
      if (refusal) return { ret: refusal };
      acknowledgeCancel(ctx, order);
      return { ret: RET.ok, order };
    })();
    list.push({
      category,
      symbol: symbol ?? '',
      orderId: outcome.order?.orderId ?? ref.orderId ?? '',
      orderLinkId: outcome.order?.orderLinkId ?? ref.orderLinkId ?? '',
    });
    codes.push({ code: outcome.ret.retCode, msg: outcome.ret.retMsg });
  });
  return { ...ok({ list }, { list: codes }, rate), batchSize };
};

/**
 * `GET /v5/order/realtime`: open orders newest first, paged by an opaque cursor.
 *
 * orderFilter default: the current docs (docs/v5/order/open-order, unchanged since January 2024) say "all kinds
 * of orders by default" for every category. Until then they said classic-account spot returned only `Order`
 * by default; classic accounts are not emulated, so every category here returns all kinds unless filtered.
 */
export const openOrders: Endpoint = (ctx, params) => {
  const category = params.category;
  if (!isCategory(category)) return fail(RET.params('category'));
  const rate = ctx.limiter.take(ctx.uid, 'realtime', category, 1, ctx.now);
  if (rate.granted === 0) return fail(RET.tooManyVisits, rate);

  const orderId = text(params.orderId);
  const orderLinkId = text(params.orderLinkId);
  const scope = pickScope(params);
  if (category === 'linear' && !scope)
    return fail(RET.params('symbol, baseCoin or settleCoin is required'), rate);
  if (category === 'spot' && scope?.settleCoin)
    return fail(RET.params('settleCoin is not supported for spot'), rate);
  const filter = orderFilter(params.orderFilter, 'any');
  if (filter === undefined) return fail(RET.params('orderFilter'), rate);
  const openOnly = text(params.openOnly) ?? '0';
  if (openOnly !== '0' && openOnly !== '1') return fail(RET.params('openOnly'), rate);
  const limit = Number(text(params.limit) ?? PAGE_DEFAULT);
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) return fail(RET.params('limit'), rate);
  const cursor = text(params.cursor);
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  if (after === null) return fail(RET.params('cursor'), rate);
  if (ctx.processing) return fail(RET.processing(category), rate);

  // orderId > orderLinkId > symbol > baseCoin (> settleCoin): only the strongest criterion given applies.
  const matches = (o: StoredOrder): boolean =>
    orderId ? o.orderId === orderId : orderLinkId ? o.orderLinkId === orderLinkId : inScope(o, scope ?? {});
  // "openOnly param will be ignored when query by orderId or orderLinkId" (docs/v5/order/open-order.mdx): an
  // id read returns the order open or closed, closed ones only while among the latest 500 kept.
  const byId = orderId !== undefined || orderLinkId !== undefined;
  const kept = byId ? ctx.book.recentlyClosed(ctx.uid, category) : undefined;
  const wanted = (o: StoredOrder): boolean =>
    kept ? isOpen(o) || kept.has(o) : isOpen(o) === (openOnly === '0');
  let selected = ctx.book
    .ordersOf(ctx.uid)
    .filter(
      (o) => o.category === category && wanted(o) && matches(o) && (filter === 'any' || o.kind === filter),
    )
    .sort(newestFirst);
  if (openOnly === '1') selected = selected.slice(0, CLOSED_KEPT);
  const rest = after ? selected.filter((o) => isAfter(o, after)) : selected;
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  const nextPageCursor = rest.length > limit && last ? encodeCursor(last) : '';
  const list = page.map((o) => bybitOrder(o, ctx.shapes));
  return ok({ category, list, nextPageCursor }, {}, rate);
};

/** create-order.mdx: "a max of 36 characters. Combinations of numbers, letters (upper and lower cases), dashes, and underscores". */
const ORDER_LINK_ID = /^[A-Za-z0-9_-]{1,36}$/;
const DECIMAL = /^\d+(\.\d+)?$/;

/** create-order.mdx, timeInForce: `GTC` (default), `IOC`, `FOK`, `PostOnly`, `RPI`. */
const TIME_IN_FORCE = ['GTC', 'IOC', 'FOK', 'PostOnly', 'RPI'];

/**
 * `POST /v5/order/create` (docs/v5/order/create-order.mdx): enough of it to model a running bot and a fire
 * drill. A limit order rests `New`; its price must keep the instrument's `priceFilter` and its quantity the
 * `lotSizeFilter` (market.ts). A `PostOnly` order that would fill at once "will be cancelled": it is
 * acknowledged, then `Cancelled`. A market order executes at once (Bybit turns it into an IOC limit order), so
 * it is `Filled`. `triggerPrice` makes a conditional order (`Untriggered`); on spot `orderFilter` picks the
 * kind. A read-only key never gets here: the server refuses it first (10005).
 */
export const createOrder: Endpoint = (ctx, params) => {
  const category = params.category;
  if (!isCategory(category)) return fail(RET.params('category'));
  const rate = ctx.limiter.take(ctx.uid, 'create', category, 1, ctx.now);
  if (rate.granted === 0) return fail(RET.tooManyVisits, rate);

  const symbol = text(params.symbol);
  if (!symbol || symbol !== symbol.toUpperCase()) return fail(RET.params('symbol'), rate);
  let coins: { baseCoin: string; settleCoin: string };
  try {
    coins = deriveCoins(category, symbol);
  } catch {
    return fail(RET.params(`symbol invalid: ${symbol}`), rate);
  }
  const side = params.side;
  if (side !== 'Buy' && side !== 'Sell') return fail(RET.params('side'), rate);
  const orderType = params.orderType;
  if (orderType !== 'Limit' && orderType !== 'Market') return fail(RET.params('orderType'), rate);
  const qty = text(params.qty);
  if (!qty || !DECIMAL.test(qty) || !(Number(qty) > 0)) return fail(RET.params('qty'), rate);
  const price = text(params.price);
  if (orderType === 'Limit' && (!price || !DECIMAL.test(price) || !(Number(price) > 0)))
    return fail(RET.params('price is required for a limit order'), rate);
  const timeInForce = text(params.timeInForce) ?? 'GTC';
  if (!TIME_IN_FORCE.includes(timeInForce)) return fail(RET.params('timeInForce'), rate);
  const orderLinkId = text(params.orderLinkId);
  // "Options orderLinkId rules: required param".
  if (category === 'option' && !orderLinkId) return fail(RET.params('orderLinkId is required'), rate);
  if (orderLinkId !== undefined && !ORDER_LINK_ID.test(orderLinkId))
    return fail(RET.params('orderLinkId'), rate);
  // "always unique": 110072 "OrderLinkedID is duplicate", spot 170141 "Duplicate clientOrderId" (error.mdx).
  if (
    orderLinkId &&
    ctx.book.ordersOf(ctx.uid).some((o) => o.category === category && o.orderLinkId === orderLinkId)
  ) {
    const duplicate =
      category === 'spot'
        ? { retCode: 170141, retMsg: 'Duplicate clientOrderId' }
        : { retCode: 110072, retMsg: 'OrderLinkedID is duplicate' };
    return fail(duplicate, rate);
  }
  // "orderFilter … Valid for `spot` only": `Order` (default), `tpslOrder`, `StopOrder`.
  const spotKind = category === 'spot' ? orderFilter(params.orderFilter, 'Order') : 'Order';
  if (spotKind === undefined || spotKind === 'any' || !['Order', 'tpslOrder', 'StopOrder'].includes(spotKind))
    return fail(RET.params('orderFilter'), rate);
  const last = ctx.market.lastPrice(category, symbol, coins.baseCoin);
  const rules = ctx.market.rules(category, last);
  const broken = breaksRules(category, rules, qty, orderType === 'Limit' ? price : undefined);
  if (broken) return fail(broken, rate);
  const conditional = category !== 'spot' && text(params.triggerPrice) !== undefined;
  const kind: OrderKind = conditional ? 'StopOrder' : spotKind;
  if (ctx.processing) return fail(RET.processing(category), rate);

  const [order] = ctx.book.add(
    ctx.uid,
    [
      {
        category,
        symbol,
        qty,
        kind,
        ...coins,
        ...(orderLinkId ? { orderLinkId } : {}),
        ...(orderType === 'Limit' ? { price } : {}),
        timeInForce: orderType === 'Market' ? 'IOC' : timeInForce,
      },
    ],
    ctx.now,
  );
  const placed = order as StoredOrder;
  if (orderType === 'Market' && kind === 'Order') ctx.book.fill(placed, undefined, ctx.now);
  // PostOnly: "If the order would be filled immediately when submitted, it will be cancelled": a buy at or
  // above the best ask (one tick over the last price here), a sell at or below the best bid.
  const tick = Number(rules.tickSize);
  const crosses = side === 'Buy' ? Number(price) >= last + tick : Number(price) <= last - tick;
  if (orderType === 'Limit' && kind === 'Order' && timeInForce === 'PostOnly' && crosses)
    ctx.book.markCancelled(placed, ctx.now);
  return ok({ orderId: placed.orderId, orderLinkId: placed.orderLinkId }, {}, rate);
};

export const PRIVATE_ENDPOINTS: Record<
  string,
  { method: string; endpoint: Endpoint; limit: RateLimitedEndpoint }
> = {
  '/v5/order/cancel': { method: 'POST', endpoint: cancelOrder, limit: 'cancel' },
  '/v5/order/cancel-all': { method: 'POST', endpoint: cancelAll, limit: 'cancel-all' },
  '/v5/order/cancel-batch': { method: 'POST', endpoint: cancelBatch, limit: 'cancel-batch' },
  '/v5/order/realtime': { method: 'GET', endpoint: openOrders, limit: 'realtime' },
  '/v5/user/query-api': { method: 'GET', endpoint: apiKeyInfo, limit: 'query-api' },
  '/v5/user/sub-apikeys': { method: 'GET', endpoint: subApiKeys, limit: 'sub-apikeys' },
  '/v5/user/update-sub-api': { method: 'POST', endpoint: updateSubApiKey, limit: 'update-sub-api' },
  '/v5/order/create': { method: 'POST', endpoint: createOrder, limit: 'create' },
};

/**
 * Why Bybit will not cancel this order now: a triggered spot BidirectionalTpslOrder ("You can only cancel
 * all untriggered BidirectionalTpslOrder", docs/changelog/v5.mdx), or a pre-market order while its
 * contract is in the CallAuctionNoCancel or CrossMatching phase (docs/v5/enum.mdx, curAuctionPhase).
 * The docs name the reject reason (EC_InCallAuctionStatus), not a retCode: a rejection stands in for it.
 */
function uncancellable(ctx: EndpointContext, order: StoredOrder): Ret | undefined {
  if (order.kind === 'BidirectionalTpslOrder' && order.orderStatus !== 'Untriggered') {
    return { retCode: 170145, retMsg: 'This order type does not support cancellation.' };
  }
  const phase = ctx.instruments.phaseOf(order.category, order.symbol);
  if (phase && NO_CANCEL_PHASES.has(phase)) {
    return { retCode: 10001, retMsg: `EC_InCallAuctionStatus: orders cannot be cancelled during ${phase}` };
  }
  return undefined;
}

/**
 * Which kinds a cancel-all's orderFilter reaches (docs/v5/order/cancel-all.mdx): spot takes its five kinds
 * (default `Order`); linear and inverse `Order`, `StopOrder`, `OpenOrder` and option `Order`, `StopOrder`,
 * where `StopOrder` covers conditional, TP/SL and trailing-stop orders and no filter cancels every kind.
 * `OpenOrder` is not explained further: taken as the active (non-conditional) orders. Undefined: refused.
 */
function cancelAllFilter(category: Category, value: unknown): ((kind: OrderKind) => boolean) | undefined {
  const given = text(value);
  if (category === 'spot') {
    const kind = orderFilter(given, 'Order');
    return kind === undefined ? undefined : (k) => k === kind;
  }
  const allowed = category === 'option' ? ['Order', 'StopOrder'] : ['Order', 'StopOrder', 'OpenOrder'];
  if (given === undefined) return () => true;
  if (!allowed.includes(given)) return undefined;
  return given === 'StopOrder' ? (k) => k !== 'Order' : (k) => k === 'Order';
}

/** The acknowledged cancel takes effect unless the order is set up to survive it. */
function acknowledgeCancel(ctx: EndpointContext, order: StoredOrder): void {
  if (ctx.survivors.survives(order.orderId)) return;
  // The cancel is asynchronous (docs/v5/order/cancel-order.mdx): it may land after the acknowledgement.
  if (ctx.cancelDelayMs) ctx.book.cancelLater(order, ctx.now + ctx.cancelDelayMs);
  else ctx.book.markCancelled(order, ctx.now);
}

/** symbol > baseCoin > settleCoin: Bybit applies the strongest one given and ignores the others. */
function pickScope(params: Params): Scope | undefined {
  const symbol = text(params.symbol);
  if (symbol) return { symbol };
  const baseCoin = text(params.baseCoin);
  if (baseCoin) return { baseCoin };
  const settleCoin = text(params.settleCoin);
  return settleCoin ? { settleCoin } : undefined;
}

/** The kind an orderFilter selects; `fallback` when absent; undefined when the value is not a known kind. */
function orderFilter(value: unknown, fallback: OrderKind | 'any'): OrderKind | 'any' | undefined {
  const given = text(value);
  if (given === undefined) return fallback;
  return isOrderKind(given) ? given : undefined;
}

/** A string parameter; null, empty and non-string values count as absent (Bybit's examples send nulls). */
export function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function pick<T>(items: T[], count: number, random: Random): T[] {
  const copy = [...items];
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, count);
}

// Bybit's cursors arrive percent-encoded inside the JSON (`…%3A…`), so a client must encode them again when it
// sends them back; a raw `:` is accepted too.
function encodeCursor(key: PageKey): string {
  return `${key.createdTime}%3A${key.seq}`;
}

function decodeCursor(cursor: string): PageKey | null {
  const match = /^(\d+)(?:%3A|:)(\d+)$/i.exec(cursor);
  return match ? { createdTime: Number(match[1]), seq: Number(match[2]) } : null;
}

export function ok(result: unknown, retExtInfo: unknown, rate: RateStatus): Outcome {
  return { ...RET.ok, result, retExtInfo, rate };
}

export function fail(ret: Ret, rate?: RateStatus): Outcome {
  return rate ? { ...ret, result: {}, retExtInfo: {}, rate } : { ...ret, result: {}, retExtInfo: {} };
}

const CANCELLED = new Set(['Cancelled', 'PartiallyFilledCanceled', 'Deactivated']);

/** The fields Bybit returns for an order; quantities are modelled, a price only when the order was placed with one (else 1). */
function bybitOrder(o: StoredOrder, shapes: Required<AnswerShapes>): Record<string, unknown> {
  const conditional = o.kind !== 'Order';
  const stopOrderType = !conditional && o.stopOrderType === '' ? shapes.plainStopOrderType : o.stopOrderType;
  const leaves = isOpen(o) ? String(Number((Number(o.qty) - Number(o.cumExecQty)).toFixed(10))) : '0';
  return {
    orderId: o.orderId,
    orderLinkId: o.orderLinkId,
    blockTradeId: '',
    symbol: o.symbol,
    price: o.price ?? '1',
    qty: o.qty,
    side: 'Buy',
    isLeverage: '',
    positionIdx: 0,
    orderStatus: o.orderStatus,
    // open-order.mdx, createType: "Spot does not have this key".
    ...(o.category === 'spot' ? {} : { createType: o.createType }),
    cancelType: CANCELLED.has(o.orderStatus) ? 'CancelByUser' : 'UNKNOWN',
    rejectReason: 'EC_NoError',
    avgPrice: Number(o.cumExecQty) > 0 ? '1' : '',
    // A closed order has nothing left to execute; at price 1 a value equals its quantity.
    leavesQty: leaves,
    leavesValue: leaves,
    cumExecQty: o.cumExecQty,
    cumExecValue: o.cumExecQty,
    cumExecFee: '0',
    timeInForce: o.timeInForce ?? 'GTC',
    orderType: 'Limit',
    stopOrderType,
    orderIv: '',
    triggerPrice: conditional ? '1' : '',
    takeProfit: '',
    stopLoss: '',
    tpTriggerBy: '',
    slTriggerBy: '',
    triggerDirection: conditional ? 1 : 0,
    triggerBy: conditional ? 'LastPrice' : '',
    reduceOnly: false,
    closeOnTrigger: false,
    smpType: 'None',
    smpGroup: 0,
    smpOrderId: '',
    createdTime: String(o.createdTime),
    updatedTime: String(o.updatedTime),
  };
}
