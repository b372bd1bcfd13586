import { randomUUID } from 'node:crypto';
import { deriveCoins } from './symbols.ts';
import type { Category, EmulatedOrder, OrderKind, OrderSeed } from './types.ts';
import { isCategory, isOrderKind } from './types.ts';

const OPEN_STATUSES = new Set(['New', 'PartiallyFilled', 'Untriggered']);

/** An order plus its insertion number, which breaks ties between orders created in the same millisecond. */
export interface StoredOrder extends EmulatedOrder {
  seq: number;
}

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
  const { seq: _seq, ...rest } = order;
  return rest;
}

/** The order state of every UID. Cancelled orders are kept so that a second cancel finds them gone. */
export class OrderBook {
  #byId = new Map<string, StoredOrder>();
  #byUid = new Map<string, StoredOrder[]>();
  #seq = 0;

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

  markCancelled(order: StoredOrder, now: number): void {
    order.orderStatus = 'Cancelled';
    order.updatedTime = now;
  }

  clear(): void {
    this.#byId.clear();
    this.#byUid.clear();
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
      stopOrderType: seed.stopOrderType ?? defaultStopOrderType(seed.category, kind),
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
