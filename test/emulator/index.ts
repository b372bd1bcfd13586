import { keyState } from './api-key.ts';
import { toCredential } from './auth.ts';
import { FaultInjector } from './faults.ts';
import { Instruments } from './instruments.ts';
import { IpLimiter } from './ip-limit.ts';
import { Market } from './market.ts';
import { inScope, isOpen, newestFirst, OrderBook, snapshot } from './orders.ts';
import { DEFAULT_SEED, seededRandom } from './random.ts';
import { RateLimiter } from './rate-limit.ts';
import { type EmulatorState, listen, serverNow, settleAll } from './server.ts';
import { StrategyBook, strategySnapshot } from './strategies.ts';
import { Survivors } from './survivors.ts';
import type { AnswerShapes, Emulator, EmulatorOptions } from './types.ts';

export type {
  AnswerShapes,
  Category,
  EmulatedOrder,
  Emulator,
  EmulatorAccount,
  EmulatorKeySettings,
  EmulatorKeyView,
  EmulatorOptions,
  FaultKind,
  FaultPlan,
  IpLimit,
  OrderKind,
  OrderSeed,
  RateLimitedEndpoint,
  RateLimits,
  RequestRecord,
  StrategyCategory,
  StrategySeed,
  StrategyStatus,
  StrategyType,
  SurvivorPlan,
} from './types.ts';

/** The shapes the docs show today; options and setShapes pick the other variants Bybit sends. */
const DEFAULT_SHAPES: Required<AnswerShapes> = {
  plainStopOrderType: '',
  spotCancelAll: 'list',
  strategyIntegers: 'strings',
};
/** docs/v5/error.mdx, "Strategy": 60072 "Strategy status modify failed". */
const STOP_REFUSED = { retCode: 60072, retMsg: 'Strategy status modify failed' };

const defaults = {
  host: '127.0.0.1',
  port: 0,
  latencyMs: 0,
  clockSkewMs: 0,
  timeoutHoldMs: 30_000,
  seed: DEFAULT_SEED,
};

/** Starts a Bybit V5 emulator on loopback; close() it when done. */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const options = { ...defaults, ...withoutUndefined(opts) };
  const book = new OrderBook();
  const shapes = (): Required<AnswerShapes> => ({
    ...DEFAULT_SHAPES,
    ...withoutUndefined(options.shapes ?? {}),
  });
  const state: EmulatorState = {
    accounts: new Map(),
    book,
    strategies: new StrategyBook(book),
    shapes: shapes(),
    instruments: new Instruments(),
    market: new Market(),
    limiter: new RateLimiter(options.rateLimits),
    ipLimiter: new IpLimiter(options.ipLimit),
    survivors: new Survivors(options.seed),
    faults: new FaultInjector(options.seed),
    random: seededRandom(options.seed),
    latencyMs: options.latencyMs,
    clockSkewMs: options.clockSkewMs,
    timeoutHoldMs: options.timeoutHoldMs,
    requests: [],
    listeners: new Set(),
  };
  for (const account of options.accounts ?? []) state.accounts.set(account.apiKey, toCredential(account));

  const server = await listen(state, options.host, options.port);
  const uidOf = (apiKey: string): string => {
    const credential = state.accounts.get(apiKey);
    if (!credential) throw new Error(`unknown apiKey ${apiKey}`);
    return credential.uid;
  };

  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${server.port}`,
    port: server.port,
    addAccount: (account) => {
      state.accounts.set(account.apiKey, toCredential(account));
    },
    addOrders: (apiKey, seeds) => state.book.add(uidOf(apiKey), seeds, serverNow(state)).map(snapshot),
    openOrders: (apiKey, filter = {}) => {
      settleAll(state, serverNow(state));
      return state.book
        .ordersOf(apiKey === undefined ? undefined : uidOf(apiKey))
        .filter(
          (o) =>
            isOpen(o) &&
            (filter.category === undefined || o.category === filter.category) &&
            inScope(o, { symbol: filter.symbol }),
        )
        .sort(newestFirst)
        .map(snapshot);
    },
    setFaults: (plan) => state.faults.setPlan(plan),
    failNext: (kind, count, path) => state.faults.failNext(kind, count, path),
    setSurvivors: (plan) => state.survivors.set(plan),
    order: (orderId) => {
      settleAll(state, serverNow(state));
      const order = state.book.byId(orderId);
      return order && snapshot(order);
    },
    fillOrder: (orderId, qty) => {
      const now = serverNow(state);
      settleAll(state, now);
      const order = state.book.byId(orderId);
      if (!order) throw new Error(`unknown orderId ${orderId}`);
      state.book.fill(order, qty, now);
      return snapshot(order);
    },
    fillBeforeCancel: (orderId, qty) => {
      const order = state.book.byId(orderId);
      if (!order) throw new Error(`unknown orderId ${orderId}`);
      order.fillOnCancel = { qty };
    },
    setCancelDelay: (ms) => {
      state.cancelDelayMs = ms;
    },
    setLatency: (ms) => {
      state.latencyMs = ms;
    },
    setClockSkew: (ms) => {
      state.clockSkewMs = ms;
    },
    setRateLimits: (limits) => state.limiter.setLimits(limits),
    setIpLimit: (limit) => state.ipLimiter.set(limit),
    get ipBannedAt() {
      return state.ipLimiter.bannedAt;
    },
    setAuctionPhase: (symbol, phase) => state.instruments.setAuctionPhase(symbol, phase),
    revokeKey: (apiKey) => {
      const credential = state.accounts.get(apiKey);
      if (!credential) throw new Error(`unknown apiKey ${apiKey}`);
      credential.revoked = true;
    },
    setKey: (apiKey, settings) => {
      const credential = state.accounts.get(apiKey);
      if (!credential) throw new Error(`unknown apiKey ${apiKey}`);
      // A key's creation date does not change with its settings.
      credential.key = keyState({ createdAt: credential.key.createdAt, ...settings }, serverNow(state));
    },
    keySettings: (apiKey) => {
      const credential = state.accounts.get(apiKey);
      if (!credential) throw new Error(`unknown apiKey ${apiKey}`);
      const { key, uid, parentUid } = credential;
      return structuredClone({
        uid,
        ...(parentUid === undefined ? {} : { parentUid }),
        readOnly: key.readOnly,
        ips: key.ips,
        permissions: key.permissions,
        ...(key.expiresAt === undefined ? {} : { expiresAt: key.expiresAt }),
      });
    },
    onRequest: (listener) => {
      state.listeners.add(listener);
      return () => state.listeners.delete(listener);
    },
    get requests() {
      return state.requests;
    },
    setShapes: (given) => {
      state.shapes = { ...state.shapes, ...withoutUndefined(given) };
    },
    addStrategies: (apiKey, seeds) => {
      const now = serverNow(state);
      settleAll(state, now);
      return state.strategies.add(uidOf(apiKey), seeds, now).map(strategySnapshot);
    },
    strategies: (apiKey) => {
      settleAll(state, serverNow(state));
      return state.strategies
        .strategiesOf(apiKey === undefined ? undefined : uidOf(apiKey))
        .map(strategySnapshot);
    },
    setLastPrice: (symbol, price) => {
      const now = serverNow(state);
      state.book.settle(now);
      state.strategies.setLastPrice(symbol, price, now);
      state.market.setLastPrice(symbol, price);
    },
    pauseStrategy: (strategyId) => {
      const now = serverNow(state);
      state.book.settle(now);
      state.strategies.pause(strategyId, now);
    },
    resumeStrategy: (strategyId) => {
      const now = serverNow(state);
      state.book.settle(now);
      state.strategies.resume(strategyId, now);
    },
    refuseStops: (plan) =>
      state.strategies.refuseStops(plan && { strategyIds: plan.strategyIds, ret: plan.ret ?? STOP_REFUSED }),
    setStopDelay: (ms) => {
      state.strategies.stopDelayMs = ms;
    },
    resetRequests: () => {
      // Emptied in place: a caller holding `requests` keeps seeing the live list.
      state.requests.length = 0;
    },
    reset: () => {
      state.book.clear();
      state.strategies.clear();
      state.shapes = shapes();
      state.instruments.clear();
      state.market.clear();
      state.faults.clear();
      state.survivors.clear();
      state.limiter.clear();
      state.ipLimiter.clear();
      state.ipLimiter.set(options.ipLimit);
      state.requests.length = 0;
      state.random = seededRandom(options.seed);
      // Settings go back to what the emulator was started with, so every test starts from the same place.
      state.latencyMs = options.latencyMs;
      state.clockSkewMs = options.clockSkewMs;
      state.cancelDelayMs = 0;
      state.limiter.setLimits(options.rateLimits);
    },
    close: () => server.close(),
  };
}

/** `{ port: undefined }` must not override a default. */
function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
