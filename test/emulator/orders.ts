import { randomUUID } from 'node:crypto';
import { deriveCoins } from './symbols.ts';
import type { Category, EmulatedOrder, OrderKind, OrderSeed } from './types.ts';
import { isCategory, isOrderKind } from './types.ts';

const OPEN_STATUSES = new Set(['New', 'PartiallyFilled', 'Untriggered']);

/** An order plus its insertion number, which breaks ties between orders created in the same millisecond. */
export interface StoredOrder extends EmulatedOrder {
  seq: number;
  /** Order of closing across the book: which closed orders are the latest. */
  closedSeq?: number;
  /** When an acknowledged but delayed cancel takes effect. */
  cancelAt?: number;
  /** A trade that lands just before the next cancel of this order arrives (no qty: all that is left). */
  fillOnCancel?: { qty?: string };
}

/** Bybit keeps this many closed orders per account and category for realtime reads (`docs/v5/order/open-order.mdx`). */
export const CLOSED_KEPT = 500;

/** Which orders a cancel-all or realtime query covers; the caller has already applied Bybit's priority. */
export interface Scope {
  symbol?: string;
  baseCoin?: string;
  settleCoin?: string;
}

/** Identifies one order: `orderId` wins over `orderLinkId` when both are given, as Bybit documents. */
export interface OrderRef {
  orderId?: string;
  orderLinkId?: string;
}

/** Position in the newest-first order: the key of the last order a page returned. */
export interface PageKey {
  createdTime: number;
  seq: number;
}

export function isOpen(order: EmulatedOrder): boolean {
  return OPEN_STATUSES.has(order.orderStatus);
}

export function inScope(order: EmulatedOrder, scope: Scope): boolean {
  if (scope.symbol !== undefined && order.symbol !== scope.symbol) return false;
  if (scope.baseCoin !== undefined && order.baseCoin !== scope.baseCoin) return false;
  if (scope.settleCoin !== undefined && order.settleCoin !== scope.settleCoin) return false;
  return true;
}

/** Newest first; the insertion number orders orders created in the same millisecond. */
export function newestFirst(a: PageKey, b: PageKey): number {
  return b.createdTime - a.createdTime || b.seq - a.seq;
}

/** Strictly after `key` in newest-first order, so a page resumes correctly even when `key`'s order is gone. */
export function isAfter(order: PageKey, key: PageKey): boolean {
  return newestFirst(order, key) > 0;
}

/** A copy without internal fields: callers get snapshots, never the live state. */
export function snapshot(order: StoredOrder): EmulatedOrder {
  const { seq: _seq, closedSeq: _closed, cancelAt: _cancelAt, fillOnCancel: _fill, ...rest } = order;
  return rest;
}

/** The order state of every UID. Cancelled orders are kept so that a second cancel finds them gone. */
export class OrderBook {
  #byId = new Map<string, StoredOrder>();
  #byUid = new Map<string, StoredOrder[]>();
  #seq = 0;
  #closedSeq = 0;
  #pendingCancels = new Set<StoredOrder>();

  /** Adds seeded orders; fields left out get Bybit-like defaults. */
  add(uid: string, seeds: OrderSeed[], now: number): StoredOrder[] {
    return seeds.map((seed) => this.#insert(this.#fromSeed(uid, seed, now)));
  }

  /** Every order of a UID (or of everyone), open or not, in insertion order. */
  ordersOf(uid?: string): StoredOrder[] {
    if (uid !== undefined) return this.#byUid.get(uid) ?? [];
    return [...this.#byUid.values()].flat();
  }

  /** Open orders of a UID and category, newest first. */
  openOrders(uid: string, category: Category): StoredOrder[] {
    return this.ordersOf(uid)
      .filter((o) => o.category === category && isOpen(o))
      .sort(newestFirst);
  }

  /** The open order a cancel names, or undefined when it does not exist or is no longer open. */
  findOpen(uid: string, category: Category, symbol: string, ref: OrderRef): StoredOrder | undefined {
    const matches = (o: StoredOrder) => o.uid === uid && o.category === category && o.symbol === symbol;
    if (ref.orderId) {
      const order = this.#byId.get(ref.orderId);
      return order && matches(order) && isOpen(order) ? order : undefined;
    }
    if (!ref.orderLinkId) return undefined;
    return this.ordersOf(uid).find((o) => matches(o) && o.orderLinkId === ref.orderLinkId && isOpen(o));
  }

  /** Any order a by-id read names, open or closed; a reused orderLinkId names its newest order. */
  find(uid: string, category: Category, symbol: string, ref: OrderRef): StoredOrder | undefined {
    const matches = (o: StoredOrder) => o.uid === uid && o.category === category && o.symbol === symbol;
    if (ref.orderId) {
      const order = this.#byId.get(ref.orderId);
      return order && matches(order) ? order : undefined;
    }
    if (!ref.orderLinkId) return undefined;
    return this.ordersOf(uid)
      .filter((o) => matches(o) && o.orderLinkId === ref.orderLinkId)
      .sort(newestFirst)[0];
  }

  byId(orderId: string): StoredOrder | undefined {
    return this.#byId.get(orderId);
  }

  /**
   * The cancel takes effect. Final statuses as `docs/v5/enum.mdx` lists them: `Cancelled` ("in derivatives,
   * orders with this status may have an executed qty"), `PartiallyFilledCanceled` ("only spot has this order
   * status"), `Deactivated` ("UTA: Spot tp/sl order, conditional order, OCO order are cancelled before they
   * are triggered").
   */
  markCancelled(order: StoredOrder, now: number): void {
    this.#pendingCancels.delete(order);
    order.cancelAt = undefined;
    if (order.category === 'spot' && order.kind !== 'Order') order.orderStatus = 'Deactivated';
    else if (order.category === 'spot' && Number(order.cumExecQty) > 0)
      order.orderStatus = 'PartiallyFilledCanceled';
    else order.orderStatus = 'Cancelled';
    order.updatedTime = now;
    order.closedSeq = ++this.#closedSeq;
  }

  /** An acknowledged cancel that lands at `at`; a second acknowledgement does not push it later. */
  cancelLater(order: StoredOrder, at: number): void {
    if (order.cancelAt !== undefined && order.cancelAt <= at) return;
    order.cancelAt = at;
    this.#pendingCancels.add(order);
  }

  /** Applies the delayed cancels that are due by `now`. */
  settle(now: number): void {
    for (const order of this.#pendingCancels) {
      if ((order.cancelAt ?? now) <= now && isOpen(order)) this.markCancelled(order, order.cancelAt ?? now);
      else if (!isOpen(order)) this.#pendingCancels.delete(order);
    }
  }

  /** A trade of `qty` (default: all that is left) against an open order: Filled when nothing is left. */
  fill(order: StoredOrder, qty: string | undefined, now: number): void {
    if (!isOpen(order)) throw new Error(`order ${order.orderId} is ${order.orderStatus}, not open`);
    const left = decimal(Number(order.qty) - Number(order.cumExecQty));
    const traded = qty === undefined ? left : Math.min(Number(qty), left);
    if (!(traded > 0)) throw new Error(`fill quantity must be positive: ${qty}`);
    order.cumExecQty = String(decimal(Number(order.cumExecQty) + traded));
    order.orderStatus = decimal(left - traded) > 0 ? 'PartiallyFilled' : 'Filled';
    order.updatedTime = now;
    if (order.orderStatus !== 'Filled') return;
    order.closedSeq = ++this.#closedSeq;
    this.#pendingCancels.delete(order);
  }

  /** The latest CLOSED_KEPT closed orders of a UID and category: what a realtime read can still return. */
  recentlyClosed(uid: string, category: Category): Set<StoredOrder> {
    const closed = this.ordersOf(uid)
      .filter((o) => o.category === category && !isOpen(o))
      .sort((a, b) => (b.closedSeq ?? 0) - (a.closedSeq ?? 0));
    return new Set(closed.slice(0, CLOSED_KEPT));
  }

  clear(): void {
    this.#byId.clear();
    this.#byUid.clear();
    this.#pendingCancels.clear();
  }

  #insert(order: StoredOrder): StoredOrder {
    if (this.#byId.has(order.orderId)) throw new Error(`duplicate orderId ${order.orderId}`);
    const own = this.#byUid.get(order.uid) ?? [];
    if (
      order.orderLinkId &&
      own.some((o) => o.category === order.category && o.orderLinkId === order.orderLinkId && isOpen(o))
    ) {
      throw new Error(`duplicate open orderLinkId ${order.orderLinkId}`);
    }
    this.#byId.set(order.orderId, order);
    own.push(order);
    this.#byUid.set(order.uid, own);
    return order;
  }

  #fromSeed(uid: string, seed: OrderSeed, now: number): StoredOrder {
    if (!isCategory(seed.category)) throw new Error(`unknown category ${String(seed.category)}`);
    const kind = seed.kind ?? 'Order';
    if (!isOrderKind(kind)) throw new Error(`unknown order kind ${String(kind)}`);
    const coins =
      seed.baseCoin !== undefined && seed.settleCoin !== undefined
        ? { baseCoin: seed.baseCoin, settleCoin: seed.settleCoin }
        : deriveCoins(seed.category, seed.symbol);
    const createdTime = seed.createdTime ?? now;
    const qty = seed.qty ?? '1';
    const partial = seed.orderStatus === 'PartiallyFilled';
    return {
      orderId: seed.orderId ?? randomUUID(),
      orderLinkId: seed.orderLinkId ?? '',
      category: seed.category,
      symbol: seed.symbol,
      baseCoin: seed.baseCoin ?? coins.baseCoin,
      settleCoin: seed.settleCoin ?? coins.settleCoin,
      kind,
      // Conditional and TP/SL orders rest untriggered until their trigger price is hit.
      orderStatus: seed.orderStatus ?? (kind === 'Order' ? 'New' : 'Untriggered'),
      qty,
      ...(seed.price !== undefined ? { price: seed.price } : {}),
      ...(seed.timeInForce !== undefined ? { timeInForce: seed.timeInForce } : {}),
      cumExecQty: seed.cumExecQty ?? (partial ? String(decimal(Number(qty) / 2)) : '0'),
      stopOrderType: seed.stopOrderType ?? defaultStopOrderType(seed.category, kind),
      createType: seed.createType ?? 'CreateByUser',
      createdTime,
      updatedTime: createdTime,
      uid,
      seq: ++this.#seq,
    };
  }
}

/** The `stopOrderType` Bybit reports for each kind (futures TP/SL orders report TakeProfit/StopLoss). */
function defaultStopOrderType(category: Category, kind: OrderKind): string {
  switch (kind) {
    case 'Order':
      return '';
    case 'StopOrder':
      return 'Stop';
    case 'tpslOrder':
      return category === 'spot' ? 'tpslOrder' : 'TakeProfit';
    case 'OcoOrder':
    case 'BidirectionalTpslOrder':
      return kind;
  }
}

/** Quantities as Bybit writes them: decimals without binary noise (0.1 + 0.2 is 0.3). */
export function decimal(value: number): number {
  return Number(value.toFixed(10));
}
