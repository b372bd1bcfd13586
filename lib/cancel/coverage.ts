// What "everything" is, as the exchange says it: the linear settle coins Bybit lists (public
// `GET /v5/market/instruments-info`, `docs/v5/market/instrument.mdx`), joined with the configured ones, and
// the orders Bybit will not cancel right now. Configuration picks what goes in the first wave; it never
// limits what is verified.

import type { BybitClient, Priority } from '../bybit/client.ts';
import type { Category, Instrument, InstrumentsParams, OpenOrder } from '../bybit/types.ts';
import { describeError, type Fields } from '../log.ts';
import type { Exchange } from './exchange.ts';
import { type Coverage, widestListings } from './scopes.ts';

/** How long a container trusts a discovery: settle coins change with listings, not by the minute. */
export const DISCOVERY_TTL_MS = 15 * 60_000;
/** Bybit's largest instruments page (`instrument.mdx`: limit 1..1000). */
const INSTRUMENTS_PAGE_LIMIT = 1000;
/** Pages read before a listing is taken as endless (more than 50,000 instruments). */
const MAX_INSTRUMENT_PAGES = 50;

/** What the exchange lists: linear settle coins, and the linear symbols still in pre-market. */
export interface Listed {
  linearSettleCoins: string[];
  preMarketSymbols: string[];
}

/** The coverage a run verifies, and whether the exchange confirmed it. */
export interface CoverageReport {
  categories: Category[];
  /** Configured and discovered: one verification listing each. */
  linearSettleCoins: string[];
  /** Settle coins the exchange lists that the configuration does not name. */
  discovered: string[];
  preMarketSymbols: string[];
  /** False when instruments-info could not be read: then only the configured coins (and any cached ones) were verified. */
  confirmed: boolean;
  error?: Fields;
}

export interface DiscoveryOptions {
  ttlMs?: number;
  now?: () => number;
}

/** Reads what the exchange lists, cached per container; concurrent callers share one read. */
export class SettleCoinDiscovery {
  private readonly ttlMs: number;
  private readonly now: () => number;
  private fresh: { at: number; value: Listed } | undefined;
  private inFlight: Promise<Listed> | undefined;

  constructor(options: DiscoveryOptions = {}) {
    this.ttlMs = options.ttlMs ?? DISCOVERY_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** The last successful read, however old (a fallback when a new read fails). */
  get last(): Listed | undefined {
    return this.fresh?.value;
  }

  async listed(client: BybitClient, deadline: number, priority: Priority): Promise<Listed> {
    if (this.fresh && this.now() - this.fresh.at < this.ttlMs) return this.fresh.value;
    this.inFlight ??= readListed(client, deadline, priority)
      .then((value) => {
        this.fresh = { at: this.now(), value };
        return value;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}

async function readListed(client: BybitClient, deadline: number, priority: Priority): Promise<Listed> {
  // Orders rest on trading and on pre-market contracts: both listings, at once. When one fails, the other
  // still ends first: a read left running would go on after the invocation, into the next one.
  const [readTrading, readPreMarket] = await Promise.allSettled([
    allInstruments(client, { category: 'linear' }, deadline, priority),
    allInstruments(client, { category: 'linear', status: 'PreLaunch' }, deadline, priority),
  ]);
  if (readTrading.status === 'rejected') throw readTrading.reason;
  if (readPreMarket.status === 'rejected') throw readPreMarket.reason;
  const [trading, preMarket] = [readTrading.value, readPreMarket.value];
  const coins = [...trading, ...preMarket].map((i) => i.settleCoin).filter(isCoin);
  return {
    linearSettleCoins: [...new Set(coins)].sort(),
    preMarketSymbols: preMarket.map((i) => i.symbol).filter((s) => typeof s === 'string'),
  };
}

/** Every page of an instruments listing. */
export async function allInstruments(
  client: BybitClient,
  params: InstrumentsParams,
  deadline: number,
  priority: Priority,
): Promise<Instrument[]> {
  const instruments: Instrument[] = [];
  let cursor = '';
  for (let page = 0; page < MAX_INSTRUMENT_PAGES; page++) {
    const answer = await client.instrumentsInfo(
      { ...params, limit: INSTRUMENTS_PAGE_LIMIT, ...(cursor ? { cursor } : {}) },
      { deadline, priority },
    );
    instruments.push(...answer.list);
    cursor = answer.nextPageCursor;
    if (!cursor) return instruments;
  }
  throw new Error(`instruments-info ${params.category}: more than ${MAX_INSTRUMENT_PAGES} pages`);
}

/**
 * The coverage a run verifies: the configured categories, and the linear settle coins the exchange lists
 * joined with the configured ones. Never throws: when discovery fails the configured coins (and the last
 * successful discovery, if any) are used, and the report says the coverage was not confirmed. The drill
 * calls this too.
 */
export async function discoverCoverage(
  exchange: Exchange,
  coverage: Coverage,
  deadline: number,
  priority: Priority = 'verify',
): Promise<CoverageReport> {
  const configured = coverage.linearSettleCoins;
  const report = (listed: Listed | undefined, confirmed: boolean, error?: unknown): CoverageReport => {
    const coins = [...new Set([...configured, ...(listed?.linearSettleCoins ?? [])])];
    return {
      categories: [...coverage.categories],
      linearSettleCoins: coins,
      discovered: coins.filter((c) => !configured.includes(c)),
      preMarketSymbols: listed?.preMarketSymbols ?? [],
      confirmed,
      ...(error === undefined ? {} : { error: describeError(error) }),
    };
  };
  // Without linear nothing needs discovering: the other widest listings need no selector.
  if (!coverage.categories.includes('linear')) return report(undefined, true);
  try {
    const client = await exchange.anyClient();
    return report(await exchange.discovery.listed(client, deadline, priority), true);
  } catch (error) {
    return report(exchange.discovery.last, false, error);
  }
}

/** The widest listings of a coverage report (see `widestListings`). */
export function listingsOf(coverage: CoverageReport) {
  return widestListings(coverage.categories, coverage.linearSettleCoins);
}

/** Pre-market phases in which orders cannot be cancelled (`docs/v5/enum.mdx`, curAuctionPhase). */
const NO_CANCEL_PHASES = new Set(['CallAuctionNoCancel', 'CrossMatching']);

/** The current auction phase of each pre-market linear symbol (a fresh read: phases last minutes). */
export async function preMarketPhases(
  client: BybitClient,
  deadline: number,
  priority: Priority,
): Promise<Map<string, string>> {
  const instruments = await allInstruments(
    client,
    { category: 'linear', status: 'PreLaunch' },
    deadline,
    priority,
  );
  return new Map(
    instruments
      .filter((i) => typeof i.preListingInfo?.curAuctionPhase === 'string')
      .map((i) => [i.symbol, i.preListingInfo?.curAuctionPhase as string]),
  );
}

/** Why Bybit will not cancel this order now, or undefined when it can. */
export function whyUncancellable(
  category: Category,
  order: OpenOrder,
  phases: ReadonlyMap<string, string>,
): string | undefined {
  if (
    category === 'spot' &&
    order.stopOrderType === 'BidirectionalTpslOrder' &&
    order.orderStatus !== 'Untriggered'
  ) {
    return 'a triggered spot BidirectionalTpslOrder cannot be cancelled; only untriggered ones can (docs/changelog/v5.mdx)';
  }
  const phase = category === 'linear' ? phases.get(order.symbol) : undefined;
  if (phase && NO_CANCEL_PHASES.has(phase)) {
    return `pre-market ${order.symbol} is in its ${phase} phase, when orders cannot be cancelled (docs/v5/enum.mdx)`;
  }
  return undefined;
}

function isCoin(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Z0-9]{1,20}$/.test(value);
}
