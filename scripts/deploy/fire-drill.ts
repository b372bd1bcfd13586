// `npm run kill-switch -- --fire-drill --stage S`: a live fire drill on testnet or demo trading. Steps:
//   1. read the stage's BYBIT_BASE_URL: mainnet (or a host that is not a Bybit one we know) is refused unless
//      the person passes --mainnet and types the stage name;
//   2. per account of the exchange secret (or the ones named), place one post-only limit buy far below the
//      market, linear and spot, with an orderLinkId of the drill's own (`firedrill-<run>-…`): the price from
//      the public ticker, rounded to the instrument's tick, the quantity its smallest valid one; then read
//      each back to see it rest;
//   3. fire the real kill switch (through EventBridge on a deployed stage) and wait for its report;
//   4. list to confirm the drill's orders are gone;
//   5. reset the halts the kill switch set on accounts that were not halted before;
//   6. print the time of each phase. Orders are placed here and by the client only: no function places any.

import { randomBytes } from 'node:crypto';
import { BybitClient } from '../../lib/bybit/client.ts';
import { networkOf } from '../../lib/bybit/hosts.ts';
import type { Category, CreateOrderParams, Instrument, Ticker } from '../../lib/bybit/types.ts';
import type { HaltRecord, ResetReport } from '../../lib/cancel/halt.ts';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import { SecretError } from '../../lib/errors.ts';
import { StateHaltStore } from '../../lib/lambda/halts.ts';
import { parseExchangeSecret } from '../../lib/lambda/secrets.ts';
import type { Reporter } from '../local/progress.ts';
import { accountTable } from '../local/report-table.ts';
import { UsageError } from './args.ts';
import { type Terminal, typedStage } from './confirm.ts';
import { NotDoneError, type StageTarget } from './target.ts';

/** Every order the drill places carries this prefix in its orderLinkId (at most 36 characters in all). */
export const FIRE_DRILL_PREFIX = 'firedrill-';
/** The drill buys at this fraction of the last price: far from the market, so it never fills. */
export const FAR_FROM_MARKET = 0.5;
/** What the drill trades: the deepest market of each category it tests. */
const SYMBOL = 'BTCUSDT';
const CATEGORIES: readonly Extract<Category, 'linear' | 'spot'>[] = ['linear', 'spot'];
const CALL_TIMEOUT_MS = 10_000;
const REPORT_WAIT_MS = 150_000;
const RESET_WAIT_MS = 90_000;
/** Pages of an open-order listing read when verifying (50 orders a page). */
const MAX_PAGES = 20;

export interface FireDrillOptions {
  target: StageTarget;
  accounts?: string[];
  /** --mainnet: the person allows a stage on mainnet (and must still type its name). */
  mainnet: boolean;
  /** Who runs it (the kill switch's reason, the reset's `by`). */
  by: string;
  kind: { source: string; detailType: string };
  out: Reporter;
  terminal?: Terminal;
}

export interface PlacedOrder {
  account: string;
  category: Category;
  symbol: string;
  orderId: string;
  orderLinkId: string;
  price: string;
  qty: string;
}

/** Runs the drill; throws NotDoneError (exit 1) unless every order it placed was cancelled and verified. */
export async function fireDrill(options: FireDrillOptions): Promise<void> {
  const { target, out } = options;
  const phases: [string, number][] = [];
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      phases.push([phase, performance.now() - started]);
    }
  };

  const settings = await target.settings('cancelAll');
  const baseUrl = settings.BYBIT_BASE_URL || 'https://api.bybit.com';
  const network = networkOf(baseUrl);
  await refuseMainnet(options, baseUrl, network);
  out.line(`Fire drill on stage ${target.stage}${target.where}: ${network} (${baseUrl})`);

  const secretId = settings.BYBIT_SECRET_ID ?? '';
  const keys = parseExchangeSecret(secretId, await target.secret(secretId));
  const names = options.accounts ?? [...keys.keys()];
  const unknown = names.filter((a) => !keys.has(a));
  if (unknown.length > 0)
    throw new UsageError(`--account: no account ${unknown.join(', ')} in the exchange secret`);

  const halts = new StateHaltStore(await target.state());
  const haltedBefore = new Set(
    (
      await halts.list().catch((error: unknown) => {
        throw new NotDoneError(
          `the halts cannot be read (${(error as Error).message}): the drill must know which halts it causes, to reset only those`,
        );
      })
    ).map((h) => h.account),
  );
  for (const account of names.filter((a) => haltedBefore.has(a)))
    out.line(
      `  ${account} is halted already: its halt stays after the drill (reset it yourself once you know why)`,
    );

  const run = `${Date.now().toString(36).slice(-5)}${randomBytes(2).toString('hex')}`;
  const clients = new Map<string, BybitClient>();
  const problems: string[] = [];
  for (const account of names) {
    const key = keys.get(account);
    if (key instanceof SecretError || !key) {
      problems.push(`${account}: ${key?.message ?? 'no key'}`);
      continue;
    }
    clients.set(
      account,
      new BybitClient({ credentials: key, baseUrl, requestTimeoutMs: CALL_TIMEOUT_MS, maxAttempts: 2 }),
    );
  }

  const placed = await timed('place', () => placeOrders(clients, names, run, out, problems));
  if (placed.length === 0) {
    throw new NotDoneError(
      `no order could be placed, so the kill switch was not fired: ${problems.join('; ')}`,
    );
  }

  const detail = {
    ...(options.accounts ? { accounts: options.accounts } : {}),
    reason: `fire drill ${run}, ${options.by}`,
    origin: 'fireDrill',
  };
  const fired = await timed('kill switch', () =>
    out.wait(
      `  firing the kill switch (${target.where.includes('local') ? 'the event, to the local cancelAll' : 'through EventBridge'}) and waiting for its report`,
      () => target.fireKillSwitch(options.kind, detail, REPORT_WAIT_MS),
    ),
  );
  const report = fired.record?.report as Partial<KillSwitchReport> | undefined;
  if (!fired.record) problems.push(`no report for event ${fired.eventId} after ${REPORT_WAIT_MS / 1000} s`);
  else {
    out.line(
      `  kill switch ${fired.eventId}: ${fired.record.ok ? '✔ all clear' : `✘ ${fired.record.error?.message ?? 'not everything was cleared'}`}`,
    );
    for (const line of accountTable(report ?? {})) out.line(line);
    if (!fired.record.ok) problems.push('the kill switch did not report everything clear');
  }

  const left = await timed('verify', () => verifyGone(clients, placed, run, out));
  problems.push(...left);

  const caused = await timed('reset', () => resetCaused(options, halts, names, haltedBefore, run));
  if (caused.problem) problems.push(caused.problem);

  const total = phases.reduce((sum, [, ms]) => sum + ms, 0);
  out.line(
    `Phase times: ${phases.map(([phase, ms]) => `${phase} ${Math.round(ms)} ms`).join(', ')}; total ${(total / 1000).toFixed(1)} s`,
  );
  if (problems.length > 0) throw new NotDoneError(`the fire drill FAILED: ${problems.join('; ')}`);
  out.line(
    `✔ Fire drill passed: ${placed.length} order(s) placed, cancelled by the kill switch and verified gone${caused.reset ? `; the halt it set is reset (${caused.reset})` : ''}.`,
  );
}

async function refuseMainnet(options: FireDrillOptions, baseUrl: string, network: string): Promise<void> {
  if (network !== 'mainnet' && network !== 'unknown') return;
  const what =
    network === 'mainnet'
      ? `stage ${options.target.stage} trades on mainnet (${baseUrl}): a fire drill places real orders there`
      : `stage ${options.target.stage} reaches ${baseUrl}, which is not a Bybit testnet or demo host: it may be mainnet`;
  if (!options.mainnet) {
    throw new UsageError(
      `${what}. Run it on a testnet or demo stage (BYBIT_BASE_URL=https://api-testnet.bybit.com or https://api-demo.bybit.com); to fire at this one anyway, pass --mainnet and type the stage name`,
    );
  }
  const confirmed = await typedStage(
    options.target.stage,
    `${what}, far from the market, and fires the real kill switch.`,
    options.terminal,
  );
  if (!confirmed) {
    throw new UsageError(
      `${what}: --mainnet needs the stage name typed in a terminal, and it was not; nothing was placed`,
    );
  }
}

/** One post-only buy per account and category; what could not be placed is a problem, never a stop. */
async function placeOrders(
  clients: Map<string, BybitClient>,
  names: string[],
  run: string,
  out: Reporter,
  problems: string[],
): Promise<PlacedOrder[]> {
  const placed: PlacedOrder[] = [];
  for (const [i, account] of names.entries()) {
    const client = clients.get(account);
    if (!client) continue;
    for (const category of CATEGORIES) {
      const orderLinkId = `${FIRE_DRILL_PREFIX}${run}-${i}-${category[0]}`;
      try {
        const [{ list: instruments }, tickers] = await Promise.all([
          client.instrumentsInfo({ category, symbol: SYMBOL }),
          client.tickers({ category, symbol: SYMBOL }),
        ]);
        const order = planOrder(
          category,
          instruments.find((x) => x.symbol === SYMBOL),
          tickers.find((t) => t.symbol === SYMBOL),
        );
        const ack = await client.createOrder({ ...order, orderLinkId });
        const state = await client.orderById({ category, symbol: SYMBOL, orderId: ack.orderId });
        const line = `${account}: ${category} ${SYMBOL} Buy ${order.qty} @ ${order.price} post-only ${orderLinkId}, order ${ack.orderId}`;
        if (state?.orderStatus !== 'New') {
          problems.push(`${line} did not rest (${state?.orderStatus ?? 'not found'})`);
          out.line(`  ✘ ${line}: ${state?.orderStatus ?? 'not found'}`);
          continue;
        }
        out.line(`  ✔ ${line}: open`);
        placed.push({
          account,
          category,
          symbol: SYMBOL,
          orderId: ack.orderId,
          orderLinkId,
          price: order.price as string,
          qty: order.qty,
        });
      } catch (error) {
        problems.push(`${account}: ${category} ${SYMBOL} could not be placed: ${(error as Error).message}`);
        out.line(`  ✘ ${account}: ${category} ${SYMBOL}: ${(error as Error).message}`);
      }
    }
  }
  return placed;
}

/**
 * A post-only limit buy at FAR_FROM_MARKET of the last price, rounded down to the tick (and never under the
 * minimum price), of the smallest quantity the instrument takes: at least its minimum quantity and minimum
 * notional (linear), or its minimum order amount at its base precision (spot). Throws when a rule it needs is
 * missing: an order placed without them may be refused, or worse, not far from the market.
 */
export function planOrder(
  category: 'linear' | 'spot',
  instrument: Instrument | undefined,
  ticker: Ticker | undefined,
): Omit<CreateOrderParams, 'orderLinkId'> {
  const last = Number(ticker?.lastPrice);
  const tick = instrument?.priceFilter?.tickSize;
  if (!(last > 0) || !tick || !(Number(tick) > 0))
    throw new Error(
      `${category} ${SYMBOL}: no last price or tick size to place a valid order far from the market`,
    );
  const floor = instrument?.priceFilter?.minPrice ?? tick;
  let price = roundTo(last * FAR_FROM_MARKET, tick, 'down');
  if (Number(price) < Number(floor)) price = roundTo(Number(floor), tick, 'up');
  const lot = instrument?.lotSizeFilter ?? {};
  let qty: string;
  if (category === 'linear') {
    if (!lot.qtyStep || !lot.minOrderQty) throw new Error(`linear ${SYMBOL}: no qtyStep or minOrderQty`);
    const byNotional = roundTo(Number(lot.minNotionalValue ?? 0) / Number(price), lot.qtyStep, 'up');
    qty =
      Number(byNotional) > Number(lot.minOrderQty)
        ? byNotional
        : roundTo(Number(lot.minOrderQty), lot.qtyStep, 'up');
  } else {
    if (!lot.basePrecision || !lot.minOrderAmt)
      throw new Error(`spot ${SYMBOL}: no basePrecision or minOrderAmt`);
    qty = roundTo(Number(lot.minOrderAmt) / Number(price), lot.basePrecision, 'up');
  }
  return { category, symbol: SYMBOL, side: 'Buy', orderType: 'Limit', qty, price, timeInForce: 'PostOnly' };
}

/** `value` rounded to a whole number of `step`s, written with the step's decimals. */
export function roundTo(value: number, step: string, direction: 'up' | 'down'): string {
  const places = step.includes('.') ? (step.split('.')[1] ?? '').length : 0;
  const scale = 10 ** places;
  const unit = Math.round(Number(step) * scale);
  // A tiny allowance first: 0.3 / 0.1 must not round up to 4 steps for a binary fraction.
  const units = (value * scale) / unit;
  const whole = direction === 'up' ? Math.ceil(units - 1e-9) : Math.floor(units + 1e-9);
  return ((whole * unit) / scale).toFixed(places);
}

/** Reads each placed order back and lists the account's books: what is still open is a problem. */
async function verifyGone(
  clients: Map<string, BybitClient>,
  placed: PlacedOrder[],
  run: string,
  out: Reporter,
): Promise<string[]> {
  const problems: string[] = [];
  const ours = `${FIRE_DRILL_PREFIX}${run}-`;
  for (const order of placed) {
    const client = clients.get(order.account) as BybitClient;
    const state = await client.orderById({
      category: order.category,
      symbol: order.symbol,
      orderId: order.orderId,
    });
    if (state && ['New', 'PartiallyFilled', 'Untriggered'].includes(state.orderStatus))
      problems.push(`${order.account}: ${order.orderLinkId} is still open`);
  }
  for (const [account, client] of clients) {
    for (const listing of [{ category: 'linear', settleCoin: 'USDT' }, { category: 'spot' }] as const) {
      let cursor = '';
      for (let page = 0; page < MAX_PAGES; page++) {
        const answer = await client.openOrders({ ...listing, limit: 50, ...(cursor ? { cursor } : {}) });
        const open = answer.list.filter((o) => o.orderLinkId.startsWith(ours));
        for (const o of open) problems.push(`${account}: ${listing.category} lists ${o.orderLinkId} open`);
        if (!answer.nextPageCursor || answer.list.length === 0) break;
        cursor = answer.nextPageCursor;
      }
    }
  }
  out.line(
    problems.length === 0
      ? `  ✔ verified: ${placed.length} order(s) read back closed, and no listing shows one of ${ours}…`
      : `  ✘ ${problems.join('; ')}`,
  );
  return [...new Set(problems)];
}

/** Resets the halts the drill's kill switch set (accounts not halted before it); what it did, or why not. */
async function resetCaused(
  options: FireDrillOptions,
  halts: StateHaltStore,
  names: string[],
  haltedBefore: Set<string>,
  run: string,
): Promise<{ reset?: string; problem?: string }> {
  let now: HaltRecord[];
  try {
    now = await halts.list();
  } catch (error) {
    return { problem: `the halts could not be read to reset them: ${(error as Error).message}` };
  }
  const caused = now.map((h) => h.account).filter((a) => names.includes(a) && !haltedBefore.has(a));
  if (caused.length === 0) return {};
  const answer = await options.target.invoke(
    'reset',
    { accounts: caused, by: `fire drill ${run}, ${options.by}` },
    RESET_WAIT_MS,
  );
  if (!answer.ok) {
    return {
      problem: `the drill's halt on ${caused.join(', ')} could not be reset: ${answer.errorType}: ${answer.errorMessage}. Reset it: npm run kill-switch -- --reset --stage ${options.target.stage}`,
    };
  }
  const report = answer.result as unknown as ResetReport;
  const restored = report.accounts.reduce((n, a) => n + a.restored.length, 0);
  options.out.line(
    `  ✔ reset the drill's halt on ${caused.join(', ')}: ${restored} key(s) made read-write again`,
  );
  return { reset: `${caused.join(', ')}, ${restored} key(s) restored` };
}
