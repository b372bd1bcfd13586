// The strategy endpoints (docs/v5/strategy/*.mdx): list, stop and create, with their documented parameters,
// page sizes, answers and per-UID limits (docs/v5/rate-limit/rate-limit.mdx: list 200/s, stop and create
// 100/s). What a strategy does over time is in strategies.ts.

import { type Endpoint, fail, ok, text } from './endpoints.ts';
import { isAfter, newestFirst, type PageKey } from './orders.ts';
import { RET } from './responses.ts';
import { ORDER_CATEGORY, STRATEGY_CATEGORIES, STRATEGY_TYPES, type StoredStrategy } from './strategies.ts';
import { deriveCoins } from './symbols.ts';
import type {
  AnswerShapes,
  RateLimitedEndpoint,
  StrategyCategory,
  StrategyStatus,
  StrategyType,
} from './types.ts';

/** strategy-list.mdx: `pageSize` "Default: `20`, max: `50`". */
const PAGE_DEFAULT = 20;
const PAGE_MAX = 50;
const STATUSES = ['2', '3', '4', '5', '6'];
/** create-strategy.mdx, TWAP `interval`: "`5`, `10`, `15`, `30`(default), `60`, `120`". */
const TWAP_INTERVALS = [5, 10, 15, 30, 60, 120];
/** create-strategy.mdx: TWAP `duration` "Range: [300, 86400]"; POV `duration` "Range: [900, 86400]". */
const TWAP_DURATION = [300, 86_400];
const POV_DURATION = [900, 86_400];
/** create-strategy.mdx, POV: "POV supports Perpetuals only (`UTA_USDT`, `UTA_USDC`, `UTA_INVERSE`, `UTA_INVERSE_FUTURE`, `UTA_USDT_FUTURE`)". */
const POV_CATEGORIES: readonly StrategyCategory[] = [
  'UTA_USDT',
  'UTA_USDC',
  'UTA_INVERSE',
  'UTA_INVERSE_FUTURE',
  'UTA_USDT_FUTURE',
];
/** create-strategy.mdx lists every category but `UTA_USDC_FUTURE` for TWAP, chase and iceberg. */
const CREATE_CATEGORIES = STRATEGY_CATEGORIES.filter((c) => c !== 'UTA_USDC_FUTURE');

/**
 * `GET /v5/strategy/list`: every filter optional (strategy-list.mdx); `status` is one value; newest first,
 * `pageSize` per page, `nextCursor` empty on the last page, `prevCursor` too.
 */
export const strategyList: Endpoint = (ctx, params) => {
  const rate = ctx.limiter.take(ctx.uid, 'strategy-list', 'linear', 1, ctx.now);
  if (rate.granted === 0) return fail(RET.tooManyVisits, rate);
  const status = text(params.status);
  if (status !== undefined && !STATUSES.includes(status)) return fail(RET.params('status'), rate);
  const category = text(params.category);
  if (category !== undefined && !STRATEGY_CATEGORIES.includes(category as StrategyCategory))
    return fail(RET.params('category'), rate);
  const strategyType = text(params.strategyType);
  if (strategyType !== undefined && !STRATEGY_TYPES.includes(strategyType as StrategyType))
    return fail(RET.params('strategyType'), rate);
  const begin = seconds(params.beginTimeE0);
  const end = seconds(params.endTimeE0);
  if (begin === null || end === null) return fail(RET.params('beginTimeE0 or endTimeE0'), rate);
  const pageSize = Number(text(params.pageSize) ?? PAGE_DEFAULT);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > PAGE_MAX)
    return fail(RET.params('pageSize'), rate);
  const cursor = text(params.cursor);
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  if (after === null) return fail(RET.params('cursor'), rate);
  if (ctx.processing) return fail(RET.processing(undefined), rate);

  const strategyId = text(params.strategyId);
  const symbol = text(params.symbol);
  const selected = ctx.strategies
    .strategiesOf(ctx.uid)
    .filter(
      (s) =>
        (strategyId === undefined || s.strategyId === strategyId) &&
        (symbol === undefined || s.symbol === symbol) &&
        (status === undefined || String(s.status) === status) &&
        (category === undefined || s.category === category) &&
        (strategyType === undefined || s.strategyType === strategyType) &&
        (begin === undefined || s.createdTime >= begin * 1000) &&
        (end === undefined || s.createdTime <= end * 1000),
    )
    .map((s) => ({ s, key: { createdTime: s.createdTime, seq: s.seq } }))
    .sort((a, b) => newestFirst(a.key, b.key));
  const rest = after ? selected.filter((x) => isAfter(x.key, after)) : selected;
  const page = rest.slice(0, pageSize);
  const last = page.at(-1);
  const nextCursor = rest.length > pageSize && last ? encodeCursor(last.key) : '';
  const list = page.map((x) => bybitStrategy(x.s, ctx.shapes.strategyIntegers));
  return ok({ list, nextCursor, prevCursor: '' }, {}, rate);
};

/** `POST /v5/strategy/stop {strategyId}`: stop-strategy.mdx; the semantics are StrategyBook.stop's. */
export const strategyStop: Endpoint = (ctx, params) => {
  const rate = ctx.limiter.take(ctx.uid, 'strategy-stop', 'linear', 1, ctx.now);
  if (rate.granted === 0) return fail(RET.tooManyVisits, rate);
  const strategyId = text(params.strategyId);
  if (strategyId === undefined) return fail(RET.params('strategyId'), rate);
  if (ctx.processing) return fail(RET.processing(undefined), rate);
  const outcome = ctx.strategies.stop(ctx.uid, strategyId, ctx.now);
  if (!('ok' in outcome)) return fail(outcome, rate);
  return ok({ strategyId }, {}, rate);
};

/**
 * `POST /v5/strategy/create` (create-strategy.mdx): the required parameters of each type and the ranges the
 * page gives. A `triggerPrice` makes it wait untriggered. Answers `{strategyId, result: null}`.
 */
export const strategyCreate: Endpoint = (ctx, params) => {
  const rate = ctx.limiter.take(ctx.uid, 'strategy-create', 'linear', 1, ctx.now);
  if (rate.granted === 0) return fail(RET.tooManyVisits, rate);
  const invalid = (detail: string) => fail(RET.params(detail), rate);
  const strategyType = text(params.strategyType) as StrategyType | undefined;
  if (!strategyType || !STRATEGY_TYPES.includes(strategyType)) return invalid('strategyType');
  const category = text(params.category) as StrategyCategory | undefined;
  const allowed = strategyType === 'pov' ? POV_CATEGORIES : CREATE_CATEGORIES;
  if (!category || !allowed.includes(category)) return invalid('category');
  const symbol = text(params.symbol);
  if (!symbol) return invalid('symbol');
  const side = text(params.side);
  if (side !== 'Buy' && side !== 'Sell') return invalid('side');
  const size = text(params.size);
  // "Either "size" or "positionValue" is needed"; POV: "Required either "size" or "duration"".
  if (strategyType !== 'pov' && size === undefined && text(params.positionValue) === undefined)
    return invalid('size or positionValue');
  const duration = params.duration === undefined ? undefined : Number(params.duration);
  const interval = params.interval === undefined ? undefined : Number(params.interval);
  if (strategyType === 'twap') {
    const every = interval ?? 30;
    if (!TWAP_INTERVALS.includes(every)) return invalid('interval');
    if (duration === undefined || !within(duration, TWAP_DURATION) || duration % every !== 0)
      return invalid('duration');
  }
  if (strategyType === 'pov') {
    if (typeof params.povParams !== 'object' || params.povParams === null) return invalid('povParams');
    if (interval !== undefined && interval !== 0 && !within(interval, [5, 3600])) return invalid('interval');
    if (duration !== undefined && !within(duration, POV_DURATION)) return invalid('duration');
    if ((interval ?? 0) > 0 && size === undefined && duration === undefined)
      return invalid('size or duration');
  }
  try {
    deriveCoins(ORDER_CATEGORY[category], symbol);
  } catch {
    return fail({ retCode: 60078, retMsg: 'strategy symbol not supported' }, rate);
  }
  if (ctx.processing) return fail(RET.processing(undefined), rate);
  const triggerPrice = text(params.triggerPrice);
  const [strategy] = ctx.strategies.add(
    ctx.uid,
    [
      {
        category,
        symbol,
        strategyType,
        side,
        size: size ?? '1',
        ...(triggerPrice ? { triggerPrice } : {}),
        ...(interval !== undefined ? { interval } : {}),
        ...(duration !== undefined ? { duration } : {}),
      },
    ],
    ctx.now,
  );
  return ok({ strategyId: strategy?.strategyId, result: null }, {}, rate);
};

export const STRATEGY_ENDPOINTS: Record<
  string,
  { method: string; endpoint: Endpoint; limit: RateLimitedEndpoint }
> = {
  '/v5/strategy/list': { method: 'GET', endpoint: strategyList, limit: 'strategy-list' },
  '/v5/strategy/stop': { method: 'POST', endpoint: strategyStop, limit: 'strategy-stop' },
  '/v5/strategy/create': { method: 'POST', endpoint: strategyCreate, limit: 'strategy-create' },
};

/**
 * A strategy as strategy-list.mdx's example answers it. Its table types `status`, the `…E3` times and the
 * counts as integers; the example itself sends the times, `triggerCount`, `tradingCount` and `chasePercentE4`
 * as strings (and `orderType` as "UNKNOWN"): `strategyIntegers` picks which.
 */
function bybitStrategy(
  s: StoredStrategy,
  integers: Required<AnswerShapes>['strategyIntegers'],
): Record<string, unknown> {
  const int = (value: number) => (integers === 'strings' ? String(value) : value);
  const executedDuration =
    s.executedStartTime > 0
      ? Math.floor(((s.executedEndTime || s.updatedTime) - s.executedStartTime) / 1000)
      : 0;
  return {
    strategyId: s.strategyId,
    category: s.category,
    symbol: s.symbol,
    side: s.side,
    size: s.size,
    duration: s.duration,
    status: s.status as StrategyStatus,
    executedDuration,
    executedSize: s.executedSize,
    executedAvgPrice: Number(s.executedSize) > 0 ? '1' : '0',
    executedStartTimeE3: int(s.executedStartTime),
    executedEndTimeE3: int(s.executedEndTime),
    createdTimeE3: int(s.createdTime),
    updatedTimeE3: int(s.updatedTime),
    isRandom: false,
    limitPrice: '',
    reduceOnly: false,
    terminateType: s.terminateType,
    terminateRemark: s.terminateRemark,
    strategyName: '',
    triggerCount: int(s.children.length),
    tradingCount: int(s.children.length),
    realizedPnl: '0',
    strategyType: s.strategyType,
    chasePrice: 'Bid1',
    chasePercentE4: int(0),
    chaseDistance: '0',
    maxChasePrice: '',
    chaseOrderPrice: '',
    arbitrageOrders: [],
    strategyPrefer: 'quickExecution',
    isRebalance: false,
    interval: s.interval,
    leverageType: 0,
    postOnly: 0,
    triggerPrice: s.triggerPrice || '0',
    isTriggered: s.isTriggered,
    strategyTp: '',
    strategySl: '',
    orderType: integers === 'strings' ? 'UNKNOWN' : 2,
    orderPriceOffset: '',
    positionValue: '',
    filledPositionValue: '',
  };
}

/** A seconds parameter: absent (undefined), a non-negative integer, or invalid (null). */
function seconds(value: unknown): number | undefined | null {
  const given = text(value);
  if (given === undefined) return undefined;
  return /^\d{1,12}$/.test(given) ? Number(given) : null;
}

function within(value: number, [min, max]: number[]): boolean {
  return Number.isInteger(value) && value >= (min as number) && value <= (max as number);
}

function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify({ t: key.createdTime, s: key.seq })).toString('base64');
}

function decodeCursor(cursor: string): PageKey | null {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as { t?: unknown; s?: unknown };
    return Number.isInteger(value.t) && Number.isInteger(value.s)
      ? { createdTime: value.t as number, seq: value.s as number }
      : null;
  } catch {
    return null;
  }
}
